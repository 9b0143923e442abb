//! `vigil enroll`: capture templates of a person (camera, image folder or
//! video), through the quality and diversity gates, into the gallery; the
//! same frames train the scene head.
//!
//! When a `vigil run` serves the same state directory (its control socket
//! answers) and no `--source` is given, the running instance is asked to
//! enrol from its own live frames: the camera it holds is not opened twice.

use anyhow::bail;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::app::config::Config;
use crate::app::enrol::people::{self, PersonInfo};
use crate::app::enrol::socket::{self, Reply, Request};
use crate::app::enrol::{EnrolSession, EnrolState};
use crate::capture::{self, SourceSpec};
use crate::models::ModelStore;
use crate::verify::gallery::validate_name;

/// Flags of `vigil enroll`.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// Person to enroll (letters, digits, space, `_`, `-`, `.`; at most 64).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["list", "remove"])]
    pub name: Option<String>,
    /// camera[:INDEX], picam[:INDEX], dir:PATH, video:PATH or a stream URL (default: the running instance's live frames, else capture.source).
    #[arg(long, value_name = "SPEC")]
    pub source: Option<String>,
    /// Frames to examine (default: verify.enroll_frames).
    #[arg(long, value_name = "N")]
    pub frames: Option<usize>,
    /// Skip this many frames of the source first (e.g. to enroll from part of a clip).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub skip: usize,
    /// List the enrolled people.
    #[arg(long)]
    pub list: bool,
    /// Remove a person from the gallery.
    #[arg(long, value_name = "NAME")]
    pub remove: Option<String>,
}

fn print_people(people: &[PersonInfo], gallery: &std::path::Path) {
    if people.is_empty() {
        println!("nobody is enrolled ({})", gallery.display());
        return;
    }
    println!("gallery {}", gallery.display());
    for p in people {
        println!(
            "{:<24} {:>3} templates  enrolled at {} (unix s)",
            p.name, p.templates, p.enrolled_unix_s
        );
    }
}

fn print_removed(p: &PersonInfo) {
    println!("removed {} ({} templates)", p.name, p.templates);
}

/// `vigil enroll`.
pub fn run(config: Config, args: &EnrollArgs) -> anyhow::Result<()> {
    let config = &config;
    // Validate the name before touching anything.
    for n in args.name.iter().chain(args.remove.iter()) {
        validate_name(n)?;
    }
    let models_dir = crate::app::build::models_dir(config)?;
    let store = ModelStore::new(&models_dir);
    let paths = crate::app::paths::state_paths(config)?;

    if args.source.is_none() && args.skip == 0 {
        if let Some(stream) = socket::connect(&paths.dir) {
            return ask_running(stream, args, &paths.gallery);
        }
    }
    if args.list {
        print_people(
            &people::list(&store, &paths, config.verify.model)?,
            &paths.gallery,
        );
        return Ok(());
    }
    if let Some(name) = &args.remove {
        print_removed(&people::remove(&store, &paths, config.verify.model, name)?);
        return Ok(());
    }
    let Some(name) = &args.name else {
        bail!("give --name NAME to enroll, or --list, or --remove NAME");
    };
    // Fail early on an unusable gallery (corrupt, other model): never overwrite it.
    let mut session = EnrolSession::new(config, &store, &paths, name, args.frames)?;

    let spec_text = args
        .source
        .clone()
        .unwrap_or_else(|| config.capture.source.clone());
    let spec = SourceSpec::parse(&spec_text)?;
    let mut source = capture::open(&spec, &config.capture, &models_dir)?;
    let mut detector = crate::app::build::face_finder(&store, config, None)?;
    let bar = ProgressBar::new(session.frames() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} frames  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for _ in 0..args.skip {
        if source.next_frame()?.is_none() {
            break;
        }
    }
    while !session.is_done() {
        let Some(frame) = source.next_frame()? else {
            break;
        };
        let dets = detector
            .find(&frame.image)
            .map_err(anyhow::Error::from_boxed)?;
        session.offer(&frame.image, &dets, format!("{spec}#{}", frame.seq))?;
        bar.inc(1);
        bar.set_message(format!("kept {}", session.summary().kept.len()));
    }
    bar.finish_and_clear();
    let outcome = session.finish()?;
    println!("{}", outcome.to_text());
    Ok(())
}

/// Asks the running instance (its control socket) to list, remove or enrol.
fn ask_running(
    stream: std::os::unix::net::UnixStream,
    args: &EnrollArgs,
    gallery: &std::path::Path,
) -> anyhow::Result<()> {
    let request = if args.list {
        Request::List
    } else if let Some(name) = &args.remove {
        Request::Remove { name: name.clone() }
    } else if let Some(name) = &args.name {
        eprintln!(
            "a running Vigil serves this state directory: enrolling {name} from its live frames"
        );
        Request::Enroll {
            name: name.clone(),
            frames: args.frames,
        }
    } else {
        bail!("give --name NAME to enroll, or --list, or --remove NAME");
    };
    let mut failure = None;
    let mut ended = false;
    socket::ask(stream, &request, |reply| match reply {
        Reply::People(p) => {
            print_people(&p, gallery);
            ended = true;
        }
        Reply::Removed(p) => {
            print_removed(&p);
            ended = true;
        }
        Reply::Status(s) => match s.state {
            EnrolState::Done => {
                println!("{}", s.message);
                ended = true;
            }
            EnrolState::Failed => {
                failure = Some(s.message);
                ended = true;
            }
            _ => eprintln!("{}", s.to_text()),
        },
        Reply::Error(e) => {
            failure = Some(e);
            ended = true;
        }
    })?;
    if let Some(f) = failure {
        bail!("{f}");
    }
    if !ended {
        bail!("the running instance closed the connection before the end");
    }
    Ok(())
}
