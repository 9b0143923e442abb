//! `vigil eval unlock`: the unlock path end to end on folders of clips.
//!
//! The owner is enrolled (from the first seconds of a clip, or an existing
//! state directory's gallery is copied) into a temporary state directory;
//! the owner's clips are cut into attempts of `--attempt-s` seconds (one
//! starting every `--step-s`), and every attempt, stranger clip and spoof clip
//! is run through the real binary (`vigil run --headless`, a fresh process:
//! a fresh pipeline, tracker and rate limiter per attempt) with the loaded
//! config, except: no unlock or lock command (nothing is unlocked for real),
//! the temporary state directory, MQTT, HTTP, scene and emotion off (they do
//! not take part in unlocking). The report counts the attempts that unlocked,
//! the time to unlock from the attempt's start (media time), and the cues of
//! every failed liveness window. `--sweep KEY=V1,V2,..` runs the genuine and
//! spoof attempts again for each value of one config key and plots genuine
//! against spoof acceptance (`--plot`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use clap::Args;
use serde::Serialize;

use super::unlock_plot;
use crate::app::config::Config;
use crate::capture;

/// Flags of `vigil eval unlock`.
#[derive(Debug, Args)]
pub struct UnlockEvalArgs {
    /// Clips of the owner (files, or folders of clips), cut into attempts.
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub owner: Vec<PathBuf>,
    /// Clips of people who are not enrolled (files or folders); each clip is one attempt.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub strangers: Vec<PathBuf>,
    /// Spoof clips (photos, screens; files or folders); each clip is one attempt.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub spoofs: Vec<PathBuf>,
    /// Enrol the owner from the first `--enroll-s` seconds of this clip.
    #[arg(long, value_name = "CLIP", conflicts_with = "gallery_from")]
    pub enroll: Option<PathBuf>,
    /// Seconds of the enrolment clip used to enrol.
    #[arg(long, value_name = "S", default_value_t = 12.0)]
    pub enroll_s: f64,
    /// Frames `vigil enroll` examines.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub enroll_frames: usize,
    /// Use the gallery (and its key) of this existing state directory (copied; left unchanged).
    #[arg(long, value_name = "DIR")]
    pub gallery_from: Option<PathBuf>,
    /// Skip this many seconds at the start of every owner clip (the part enrolled from).
    #[arg(long, value_name = "S", default_value_t = 0.0)]
    pub skip_s: f64,
    /// Length of one owner attempt, in seconds.
    #[arg(long, value_name = "S", default_value_t = 6.0)]
    pub attempt_s: f64,
    /// Seconds between the starts of consecutive owner attempts.
    #[arg(long, value_name = "S", default_value_t = 2.0)]
    pub step_s: f64,
    /// Run genuine and spoof attempts again for each value of one config key
    /// (`liveness.min_planar_residual=0.01,0.025,0.04`).
    #[arg(long, value_name = "KEY=V1,V2,..")]
    pub sweep: Option<String>,
    /// Write the sweep's genuine vs spoof acceptance as a PNG (needs --sweep).
    #[arg(long, value_name = "FILE", requires = "sweep")]
    pub plot: Option<PathBuf>,
    /// Keep the cut attempts and the runs' events in this folder (default: a temporary one, removed).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Print one JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

/// What one attempt did.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptResult {
    /// The clip the attempt was cut from (or the whole clip).
    pub clip: String,
    /// Start of the attempt in that clip, in seconds.
    pub start_s: f64,
    /// Media time of the first `unlocked` event from the attempt's start, if any.
    pub unlocked_after_s: Option<f64>,
    /// Whether the owner was recognised at all (an `identity` event naming an enrolled person).
    pub recognised: bool,
    /// Failed liveness windows (`liveness_failed` events).
    pub liveness_failed: usize,
    /// The cues of each failed liveness window.
    pub failed_cues: Vec<serde_json::Value>,
}

/// The results of one kind of attempt.
#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    /// Attempts run.
    pub attempts: usize,
    /// Attempts that unlocked.
    pub unlocked: usize,
    /// `unlocked / attempts` (0 when there were none).
    pub unlock_rate: f64,
    /// Median time to unlock of the attempts that unlocked, seconds.
    pub time_to_unlock_p50_s: Option<f64>,
    /// 95th percentile (nearest rank) of the same.
    pub time_to_unlock_p95_s: Option<f64>,
    /// Failed liveness windows over all attempts.
    pub liveness_failed: usize,
    /// Median of each numeric cue over the failed windows.
    pub failed_cue_medians: serde_json::Map<String, serde_json::Value>,
    /// Every attempt.
    pub per_attempt: Vec<AttemptResult>,
}

/// One value of the swept key.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    /// The value.
    pub value: f64,
    /// Share of genuine attempts that unlocked.
    pub genuine_rate: f64,
    /// Share of spoof clips that unlocked.
    pub spoof_rate: f64,
    /// Median genuine time to unlock, seconds.
    pub time_to_unlock_p50_s: Option<f64>,
}

/// The report of `vigil eval unlock`.
#[derive(Debug, Clone, Serialize)]
pub struct UnlockEvalReport {
    /// Length of an owner attempt, seconds.
    pub attempt_s: f64,
    /// Seconds between owner attempt starts.
    pub step_s: f64,
    /// Owner attempts.
    pub genuine: GroupReport,
    /// Stranger clips.
    pub strangers: GroupReport,
    /// Spoof clips.
    pub spoofs: GroupReport,
    /// The swept key, when there was a sweep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep_key: Option<String>,
    /// One point per swept value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sweep: Vec<SweepPoint>,
}

/// The clips a path names: the file, or a folder's video files, sorted.
fn clips_of(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && is_video(f))
                .collect();
            found.sort();
            if found.is_empty() {
                bail!(
                    "{}: no video files (.mp4, .mov, .mkv, .avi, .webm)",
                    p.display()
                );
            }
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or folder", p.display());
        }
    }
    Ok(out)
}

fn is_video(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["mp4", "mov", "mkv", "avi", "webm"].contains(&e.to_ascii_lowercase().as_str())
    })
}

fn tool(name: &'static str) -> anyhow::Result<PathBuf> {
    capture::find_program(name)
        .with_context(|| format!("{name} is not installed (needed to cut clips)"))
}

/// A clip's duration in seconds (ffprobe).
fn duration_s(clip: &Path) -> anyhow::Result<f64> {
    let out = Command::new(tool("ffprobe")?)
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(clip)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run ffprobe on {}", clip.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|d| d.is_finite() && *d > 0.0)
        .with_context(|| format!("{}: no duration (not a video?)", clip.display()))
}

/// Cuts `[start, start + len)` of `clip` into `out` (re-encoded: exact cut).
fn cut(clip: &Path, start: f64, len: Option<f64>, out: &Path) -> anyhow::Result<()> {
    let mut cmd = Command::new(tool("ffmpeg")?);
    cmd.args(["-v", "error", "-y", "-ss", &format!("{start:.3}")])
        .arg("-i")
        .arg(clip);
    if let Some(l) = len {
        cmd.args(["-t", &format!("{l:.3}")]);
    }
    let status = cmd
        .args([
            "-an", "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p",
        ])
        .arg(out)
        .stdin(Stdio::null())
        .status()
        .context("cannot run ffmpeg")?;
    if !status.success() {
        bail!("ffmpeg could not cut {} at {start} s", clip.display());
    }
    Ok(())
}

/// Sets a dotted `key` of a TOML table to `value` (parsed as a TOML value,
/// else taken as a string).
pub fn set_key(root: &mut toml::Value, key: &str, value: &str) -> anyhow::Result<()> {
    let parsed: toml::Value = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    let mut node = root;
    let parts: Vec<&str> = key.split('.').collect();
    let (last, path) = parts.split_last().context("empty key")?;
    for p in path {
        node = node
            .as_table_mut()
            .context("not a table")?
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    node.as_table_mut()
        .with_context(|| format!("{key}: not inside a table"))?
        .insert(last.to_string(), parsed);
    Ok(())
}

/// The config the attempts run with, as TOML text (validated).
fn attempt_config(
    config: &Config,
    state: &Path,
    models: &Path,
    extra: &[(String, String)],
) -> anyhow::Result<String> {
    let mut v = toml::Value::try_from(config).context("cannot write the config")?;
    let fixed = [
        ("unlock.command", "[]".to_string()),
        ("unlock.lock_command", "[]".to_string()),
        ("scene.enabled", "false".to_string()),
        ("emotion.enabled", "false".to_string()),
        ("mqtt.url", "\"\"".to_string()),
        ("http.bind", "\"\"".to_string()),
        ("present.headless", "true".to_string()),
        ("present.events", "\"-\"".to_string()),
        ("present.frame_events", "false".to_string()),
    ];
    for (k, val) in fixed {
        set_key(&mut v, k, &val)?;
    }
    let quoted = |p: &Path| toml::Value::String(p.display().to_string()).to_string();
    set_key(&mut v, "verify.state_dir", &quoted(state))?;
    set_key(&mut v, "models.dir", &quoted(models))?;
    if let Some(t) = v.get_mut("verify").and_then(|t| t.as_table_mut()) {
        t.remove("gallery_path");
    }
    if let Some(t) = v.get_mut("unlock").and_then(|t| t.as_table_mut()) {
        t.remove("audit_log");
    }
    for (k, val) in extra {
        set_key(&mut v, k, val)?;
    }
    let text = toml::to_string(&v).context("cannot write the config")?;
    Config::from_toml(&text, Path::new("eval-unlock.toml"))
        .with_context(|| format!("the config with {extra:?} is not valid"))?;
    Ok(text)
}

/// Runs `vigil run` on `clip` with `config_file`; the attempt's result.
fn run_attempt(
    config_file: &Path,
    clip: &Path,
    start_s: f64,
    label: &str,
) -> anyhow::Result<AttemptResult> {
    let exe = std::env::current_exe().context("cannot find this program")?;
    let out = Command::new(exe)
        .arg("--config")
        .arg(config_file)
        .args(["run", "--headless", "--source"])
        .arg(format!("video:{}", clip.display()))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .context("cannot run vigil run")?;
    if !out.status.success() {
        bail!("vigil run on {} failed ({})", clip.display(), out.status);
    }
    let mut r = AttemptResult {
        clip: label.to_string(),
        start_s,
        unlocked_after_s: None,
        recognised: false,
        liveness_failed: 0,
        failed_cues: Vec::new(),
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(e) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if e["event"] != "verify" {
            continue;
        }
        match e["verify"].as_str() {
            Some("unlocked") if r.unlocked_after_s.is_none() => {
                r.unlocked_after_s = e["media_time_s"].as_f64();
            }
            Some("identity") if e["identity"] == "owner" => r.recognised = true,
            Some("liveness_failed") => {
                r.liveness_failed += 1;
                r.failed_cues.push(e["cues"].clone());
            }
            _ => {}
        }
    }
    Ok(r)
}

/// Nearest-rank percentile `q` (0..1) of `v` (sorted here).
fn percentile(v: &mut [f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

fn group(per_attempt: Vec<AttemptResult>) -> GroupReport {
    let attempts = per_attempt.len();
    let mut times: Vec<f64> = per_attempt
        .iter()
        .filter_map(|a| a.unlocked_after_s)
        .collect();
    let unlocked = times.len();
    let liveness_failed = per_attempt.iter().map(|a| a.liveness_failed).sum();
    let mut medians = serde_json::Map::new();
    for key in [
        "parallax",
        "face_change",
        "rigid_ratio",
        "yaw_range",
        "planar_residual",
    ] {
        let mut vals: Vec<f64> = per_attempt
            .iter()
            .flat_map(|a| a.failed_cues.iter())
            .filter_map(|c| c[key].as_f64())
            .collect();
        if let Some(m) = percentile(&mut vals, 0.5) {
            medians.insert(key.into(), serde_json::json!(m));
        }
    }
    GroupReport {
        attempts,
        unlocked,
        unlock_rate: if attempts == 0 {
            0.0
        } else {
            unlocked as f64 / attempts as f64
        },
        time_to_unlock_p50_s: percentile(&mut times, 0.5),
        time_to_unlock_p95_s: percentile(&mut times, 0.95),
        liveness_failed,
        failed_cue_medians: medians,
        per_attempt,
    }
}

/// An attempt to run: the clip to run, where it came from, its start.
struct Attempt {
    file: PathBuf,
    label: String,
    start_s: f64,
}

/// Cuts the owner clips into attempts under `dir`.
fn owner_attempts(args: &UnlockEvalArgs, dir: &Path) -> anyhow::Result<Vec<Attempt>> {
    let mut out = Vec::new();
    for (i, clip) in clips_of(&args.owner)?.iter().enumerate() {
        let total = duration_s(clip)?;
        let mut start = args.skip_s;
        while start + args.attempt_s <= total + 1e-6 {
            let file = dir.join(format!("owner{i}_{start:.1}.mp4"));
            cut(clip, start, Some(args.attempt_s), &file)?;
            out.push(Attempt {
                file,
                label: clip.display().to_string(),
                start_s: start,
            });
            start += args.step_s;
        }
    }
    if out.is_empty() {
        bail!("no owner attempt: every owner clip is shorter than --skip-s + --attempt-s");
    }
    Ok(out)
}

fn whole(paths: &[PathBuf]) -> anyhow::Result<Vec<Attempt>> {
    Ok(clips_of(paths)?
        .into_iter()
        .map(|c| Attempt {
            label: c.display().to_string(),
            file: c,
            start_s: 0.0,
        })
        .collect())
}

fn run_all(
    config_file: &Path,
    attempts: &[Attempt],
    what: &str,
) -> anyhow::Result<Vec<AttemptResult>> {
    let mut out = Vec::new();
    for (i, a) in attempts.iter().enumerate() {
        let r = run_attempt(config_file, &a.file, a.start_s, &a.label)?;
        eprintln!(
            "{what} {}/{}: {} at {:.1} s: {}",
            i + 1,
            attempts.len(),
            a.label,
            a.start_s,
            r.unlocked_after_s
                .map(|t| format!("unlocked after {t:.2} s"))
                .unwrap_or_else(|| format!(
                    "not unlocked ({} liveness failures)",
                    r.liveness_failed
                ))
        );
        out.push(r);
    }
    Ok(out)
}

/// Enrols the owner into `state` (or copies a gallery there).
fn enrol(
    args: &UnlockEvalArgs,
    config: &Config,
    config_file: &Path,
    state: &Path,
    dir: &Path,
) -> anyhow::Result<()> {
    if let Some(from) = &args.gallery_from {
        let src = config.verify.paths_in(from.clone(), &config.unlock);
        let dst = config.verify.paths_in(state.to_path_buf(), &config.unlock);
        for (a, b) in [(&src.gallery, &dst.gallery), (&src.key, &dst.key)] {
            std::fs::copy(a, b).with_context(|| format!("cannot copy {}", a.display()))?;
        }
        return Ok(());
    }
    let Some(clip) = &args.enroll else {
        bail!("give --enroll CLIP or --gallery-from DIR");
    };
    let part = dir.join("enroll.mp4");
    cut(clip, 0.0, Some(args.enroll_s), &part)?;
    let exe = std::env::current_exe().context("cannot find this program")?;
    let out = Command::new(exe)
        .arg("--config")
        .arg(config_file)
        .args([
            "enroll",
            "--name",
            "owner",
            "--frames",
            &args.enroll_frames.to_string(),
            "--source",
        ])
        .arg(format!("video:{}", part.display()))
        .stdin(Stdio::null())
        .output()
        .context("cannot run vigil enroll")?;
    if !out.status.success() {
        bail!(
            "enrolment from {} failed: {}",
            clip.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Parses `KEY=V1,V2,..`.
fn parse_sweep(s: &str) -> anyhow::Result<(String, Vec<f64>)> {
    let (key, values) = s.split_once('=').context("--sweep: give KEY=V1,V2,..")?;
    let values: Vec<f64> = values
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .with_context(|| format!("--sweep: {v} is not a number"))
        })
        .collect::<anyhow::Result<_>>()?;
    if values.is_empty() || key.is_empty() {
        bail!("--sweep: give KEY=V1,V2,..");
    }
    Ok((key.to_string(), values))
}

/// Runs the evaluation.
pub fn evaluate(config: &Config, args: &UnlockEvalArgs) -> anyhow::Result<UnlockEvalReport> {
    if !(args.attempt_s > 0.0 && args.step_s > 0.0 && args.skip_s >= 0.0 && args.enroll_s > 0.0) {
        bail!("--attempt-s, --step-s and --enroll-s must be above 0, --skip-s at least 0");
    }
    if !config.verify.enabled {
        bail!("verification is off (`verify.enabled = false`): nothing could unlock");
    }
    let sweep = args.sweep.as_deref().map(parse_sweep).transpose()?;
    let temp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let dir = match &args.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            d.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let state = dir.join("state");
    crate::app::paths::ensure_dir(&state)?;
    let models = std::fs::canonicalize(crate::app::build::models_dir(config)?)?;
    let config_file = dir.join("config.toml");
    std::fs::write(&config_file, attempt_config(config, &state, &models, &[])?)?;
    enrol(args, config, &config_file, &state, &dir)?;

    let genuine_attempts = owner_attempts(args, &dir)?;
    let stranger_attempts = whole(&args.strangers)?;
    let spoof_attempts = whole(&args.spoofs)?;
    let genuine = group(run_all(&config_file, &genuine_attempts, "owner")?);
    let strangers = group(run_all(&config_file, &stranger_attempts, "stranger")?);
    let spoofs = group(run_all(&config_file, &spoof_attempts, "spoof")?);

    let mut points = Vec::new();
    if let Some((key, values)) = &sweep {
        for v in values {
            let file = dir.join(format!("config_{v}.toml"));
            let extra = [(key.clone(), v.to_string())];
            std::fs::write(&file, attempt_config(config, &state, &models, &extra)?)?;
            let g = group(run_all(
                &file,
                &genuine_attempts,
                &format!("{key}={v} owner"),
            )?);
            let s = group(run_all(
                &file,
                &spoof_attempts,
                &format!("{key}={v} spoof"),
            )?);
            points.push(SweepPoint {
                value: *v,
                genuine_rate: g.unlock_rate,
                spoof_rate: s.unlock_rate,
                time_to_unlock_p50_s: g.time_to_unlock_p50_s,
            });
        }
    }
    Ok(UnlockEvalReport {
        attempt_s: args.attempt_s,
        step_s: args.step_s,
        genuine,
        strangers,
        spoofs,
        sweep_key: sweep.map(|(k, _)| k),
        sweep: points,
    })
}

fn line(name: &str, g: &GroupReport) -> String {
    let t = |v: Option<f64>| v.map(|x| format!("{x:.2} s")).unwrap_or_else(|| "-".into());
    let cues: Vec<String> = g
        .failed_cue_medians
        .iter()
        .map(|(k, v)| format!("{k} {:.3}", v.as_f64().unwrap_or(f64::NAN)))
        .collect();
    format!(
        "{name:<10} {:>3} of {:>3} unlocked ({:5.1}%), time to unlock p50 {} p95 {}; liveness failures {}{}\n",
        g.unlocked,
        g.attempts,
        100.0 * g.unlock_rate,
        t(g.time_to_unlock_p50_s),
        t(g.time_to_unlock_p95_s),
        g.liveness_failed,
        if cues.is_empty() {
            String::new()
        } else {
            format!(" (median failed-window cues: {})", cues.join(", "))
        }
    )
}

impl std::fmt::Display for UnlockEvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "attempts of {} s, one every {} s\n{}{}{}",
            self.attempt_s,
            self.step_s,
            line("genuine", &self.genuine),
            line("strangers", &self.strangers),
            line("spoofs", &self.spoofs)
        )?;
        if let Some(key) = &self.sweep_key {
            writeln!(f, "\n{key:>30}  genuine  spoof  p50")?;
            for p in &self.sweep {
                let t = p
                    .time_to_unlock_p50_s
                    .map(|x| format!("{x:.2} s"))
                    .unwrap_or_else(|| "-".into());
                writeln!(
                    f,
                    "{:>30}  {:6.1}%  {:5.1}%  {t}",
                    p.value,
                    100.0 * p.genuine_rate,
                    100.0 * p.spoof_rate
                )?;
            }
        }
        Ok(())
    }
}

/// `vigil eval unlock`.
pub fn run(config: &Config, args: &UnlockEvalArgs) -> anyhow::Result<UnlockEvalReport> {
    let report = evaluate(config, args)?;
    print!("{report}");
    if let (Some(path), Some(key)) = (&args.plot, &report.sweep_key) {
        unlock_plot::write(key, &report.sweep, path)?;
        println!("plot: {}", path.display());
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_key_writes_nested_values_of_their_type() {
        let mut v = toml::Value::Table(toml::Table::new());
        set_key(&mut v, "liveness.min_parallax", "0.02").unwrap();
        set_key(&mut v, "unlock.command", "[]").unwrap();
        set_key(&mut v, "capture.source", "demo").unwrap();
        assert_eq!(v["liveness"]["min_parallax"].as_float(), Some(0.02));
        assert_eq!(v["unlock"]["command"].as_array().map(|a| a.len()), Some(0));
        assert_eq!(v["capture"]["source"].as_str(), Some("demo"));
    }

    #[test]
    fn attempts_never_run_the_unlock_command_and_keep_to_their_state_dir() {
        let mut config = Config::default();
        config.unlock.command = vec!["/bin/echo".into(), "unlocked".into()];
        config.unlock.lock_command = vec!["/bin/true".into()];
        let text = attempt_config(&config, Path::new("/tmp/s"), Path::new("/tmp/m"), &[]).unwrap();
        let back = Config::from_toml(&text, Path::new("x.toml")).unwrap();
        assert!(back.unlock.command.is_empty() && back.unlock.lock_command.is_empty());
        assert_eq!(back.verify.state_dir.as_deref(), Some(Path::new("/tmp/s")));
        assert!(!back.mqtt.enabled() && !back.http.enabled());
        let swept = [(
            "liveness.min_planar_residual".to_string(),
            "0.04".to_string(),
        )];
        let text =
            attempt_config(&config, Path::new("/tmp/s"), Path::new("/tmp/m"), &swept).unwrap();
        let back = Config::from_toml(&text, Path::new("x.toml")).unwrap();
        assert_eq!(back.liveness.min_planar_residual, 0.04);
        let bad = [("liveness.nonsense".to_string(), "1".to_string())];
        assert!(attempt_config(&config, Path::new("/s"), Path::new("/m"), &bad).is_err());
    }

    #[test]
    fn percentiles_and_groups() {
        assert_eq!(percentile(&mut [], 0.5), None);
        assert_eq!(percentile(&mut [3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(percentile(&mut [3.0, 1.0, 2.0], 0.95), Some(3.0));
        let a = |t: Option<f64>| AttemptResult {
            clip: "c".into(),
            start_s: 0.0,
            unlocked_after_s: t,
            recognised: true,
            liveness_failed: usize::from(t.is_none()),
            failed_cues: vec![serde_json::json!({"parallax": 0.01, "planar_residual": null})],
        };
        let g = group(vec![a(Some(1.0)), a(None), a(Some(3.0)), a(Some(2.0))]);
        assert_eq!((g.attempts, g.unlocked, g.liveness_failed), (4, 3, 1));
        assert_eq!(g.unlock_rate, 0.75);
        assert_eq!(g.time_to_unlock_p50_s, Some(2.0));
        assert_eq!(g.failed_cue_medians["parallax"], 0.01);
        assert!(!g.failed_cue_medians.contains_key("planar_residual"));
    }

    #[test]
    fn sweep_flags_parse_or_fail_clearly() {
        let (k, v) = parse_sweep("liveness.min_parallax=0.01,0.02").unwrap();
        assert_eq!((k.as_str(), v), ("liveness.min_parallax", vec![0.01, 0.02]));
        assert!(parse_sweep("nokey").is_err());
        assert!(parse_sweep("k=a,b").is_err());
    }
}
