//! Frame sources on small real fixtures, and their errors.

use vigil::capture::CaptureConfig;
use vigil::capture::{
    self, CaptureError, DirSource, FrameSource, Poll, SourceEvent, SourceSpec, VideoSource,
};

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::fixture;

fn drain(source: &mut dyn FrameSource) -> Vec<vigil::core::frame::Frame> {
    let mut frames = Vec::new();
    while let Some(f) = source.next_frame().unwrap() {
        frames.push(f);
    }
    frames
}

#[test]
fn dir_source_reads_images_in_name_order() {
    let mut src = DirSource::open(&fixture("frames"), 10.0).unwrap();
    let frames = drain(&mut src);
    assert_eq!(frames.len(), 3);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.seq, i as u64);
        assert_eq!((f.width(), f.height()), (160, 90));
        assert_eq!(f.media_time.as_secs_f64(), i as f64 / 10.0);
    }
    // Name order: 01.png is the first frame of the clip.
    let first = image::open(fixture("frames/01.png")).unwrap().into_rgb8();
    assert_eq!(*frames[0].image, first);
}

#[test]
fn dir_source_skips_undecodable_images_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=3 {
        let name = format!("frames/0{i}.png");
        std::fs::copy(fixture(&name), dir.path().join(format!("0{i}.png"))).unwrap();
    }
    // A truncated JPEG (its first third) and random bytes named .jpg, between
    // the good frames.
    let jpeg = std::fs::read(fixture("detect/astronaut_face_256.jpg")).unwrap();
    std::fs::write(
        dir.path().join("01b_truncated.jpg"),
        &jpeg[..jpeg.len() / 3],
    )
    .unwrap();
    let noise: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("02b_noise.jpg"), noise).unwrap();

    let mut src = DirSource::open(dir.path(), 10.0).unwrap();
    assert_eq!(src.len(), 5);
    let frames = drain(&mut src);
    assert_eq!(frames.len(), 3);
    assert_eq!(src.skipped(), 2);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.seq, i as u64);
        assert_eq!((f.width(), f.height()), (160, 90));
    }
    let third = image::open(fixture("frames/03.png")).unwrap().into_rgb8();
    assert_eq!(*frames[2].image, third);

    // Through `open`, paced (realtime): the count reaches the boxed source.
    let config = CaptureConfig {
        realtime: true,
        replay_fps: 1000.0,
        ..Default::default()
    };
    let spec = SourceSpec::parse(&format!("dir:{}", dir.path().display())).unwrap();
    let models = vigil::models::resolve_dir(None).unwrap();
    let mut src = capture::open(&spec, &config, &models).unwrap();
    assert_eq!(drain(&mut *src).len(), 3);
    assert_eq!(src.skipped(), 2);
}

#[test]
fn dir_source_where_nothing_decodes_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.png"), b"not a png").unwrap();
    std::fs::write(dir.path().join("b.jpg"), [0xff, 0xd8, 0xff, 0xe0, 0, 16]).unwrap();
    let mut src = DirSource::open(dir.path(), 30.0).unwrap();
    let err = src.next_frame().unwrap_err();
    assert!(
        matches!(err, CaptureError::DirUndecodable { skipped: 2, .. }),
        "{err}"
    );
    assert_eq!(src.skipped(), 2);
}

#[test]
fn dir_source_rejects_empty_and_missing_folders() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        DirSource::open(dir.path(), 30.0),
        Err(CaptureError::DirEmpty { .. })
    ));
    assert!(matches!(
        DirSource::open(&dir.path().join("nope"), 30.0),
        Err(CaptureError::DirRead { .. })
    ));
}

#[test]
fn video_source_decodes_every_frame_with_its_clock() {
    let mut src = VideoSource::open(&fixture("clip_12f_160x90.mp4")).unwrap();
    assert_eq!(src.native_fps(), Some(30.0));
    let frames = drain(&mut src);
    assert_eq!(frames.len(), 12);
    assert_eq!((frames[0].width(), frames[0].height()), (160, 90));
    assert!((frames[11].media_time.as_secs_f64() - 11.0 / 30.0).abs() < 1e-9);
    // A real picture, not a blank buffer.
    let mean: f64 = frames[5]
        .image
        .as_raw()
        .iter()
        .map(|v| *v as f64)
        .sum::<f64>()
        / frames[5].image.as_raw().len() as f64;
    assert!(mean > 20.0 && mean < 235.0, "mean {mean}");
}

#[test]
fn unreadable_video_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("clip.mp4");
    std::fs::write(&bogus, b"definitely not a video").unwrap();
    let err = VideoSource::open(&bogus).err().unwrap();
    assert!(matches!(err, CaptureError::Video { .. }), "{err}");
    assert!(err.to_string().contains("clip.mp4"));
    let err = VideoSource::open(&dir.path().join("missing.mp4"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("missing.mp4"), "{err}");
}

#[test]
fn demo_source_is_shipped_with_the_models() {
    let models = vigil::models::resolve_dir(None).unwrap();
    let spec = SourceSpec::parse("demo").unwrap();
    let mut src = capture::open(&spec, &CaptureConfig::default(), &models).unwrap();
    let frames = drain(&mut *src);
    assert!(frames.len() >= 48, "{} frames", frames.len());
}

#[test]
fn missing_camera_is_a_clear_error_not_a_panic() {
    // Index 99 exists on no machine; with no camera at all the error is the same kind.
    let spec = SourceSpec::parse("camera:99").unwrap();
    let models = vigil::models::resolve_dir(None).unwrap();
    let err = capture::open(&spec, &CaptureConfig::default(), &models)
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            CaptureError::NoCamera { .. }
                | CaptureError::CameraOpen { .. }
                | CaptureError::CameraDisabled
        ),
        "{text}"
    );
    assert!(text.contains("camera"), "{text}");
}

/// The I420 fixture decoded to RGB24 by ffmpeg: the reference for ours.
fn ffmpeg_rgb_of_i420(path: &Path, width: u32, height: u32) -> Vec<u8> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s"])
        .arg(format!("{width}x{height}"))
        .arg("-i")
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

/// An executable shell script standing in for rpicam-vid.
fn stand_in(dir: &Path, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("rpicam-vid");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "#!/bin/sh\n{body}").unwrap();
    drop(f);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn picam_config(program: &Path) -> CaptureConfig {
    CaptureConfig {
        width: 128,
        height: 72,
        fps: 30,
        stream_timeout_s: 1.0,
        picam_program: program.display().to_string(),
        ..Default::default()
    }
}

#[test]
fn picam_reads_recorded_i420_frames_then_reports_the_exit() {
    let raw = fixture("picam_i420_3f_128x72.yuv");
    let dir = tempfile::tempdir().unwrap();
    let args_file = dir.path().join("args");
    let program = stand_in(
        dir.path(),
        &format!(
            "echo \"$@\" > '{}'\ncat '{}'\necho 'ERROR: camera went away' >&2\nexit 3",
            args_file.display(),
            raw.display()
        ),
    );
    let mut src = capture::PicamSource::open(1, &picam_config(&program)).unwrap();
    assert!(src.is_live());
    let reference = ffmpeg_rgb_of_i420(&raw, 128, 72);
    let frame_len = 128 * 72 * 3;
    for i in 0..3 {
        let frame = src.next_frame().unwrap().unwrap();
        assert_eq!(frame.seq, i as u64);
        assert_eq!((frame.width(), frame.height()), (128, 72));
        let ours = frame.image.as_raw();
        let theirs = &reference[i * frame_len..(i + 1) * frame_len];
        let mean_diff = ours
            .iter()
            .zip(theirs)
            .map(|(a, b)| a.abs_diff(*b) as f64)
            .sum::<f64>()
            / frame_len as f64;
        assert!(mean_diff < 3.0, "frame {i}: mean difference {mean_diff}");
    }
    let err = src.next_frame().unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, CaptureError::Picam { index: 1, .. }),
        "{text}"
    );
    assert!(
        text.contains("exited") && text.contains("camera went away"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&args_file).unwrap().trim(),
        "-t 0 -n --camera 1 --width 128 --height 72 --framerate 30 --codec yuv420 -o -"
    );
    // As the pipeline opens it, the exit is a loss with its stderr, the
    // camera is opened again (a fresh child) and frames go on, one sequence.
    let models = vigil::models::resolve_dir(None).unwrap();
    let spec = SourceSpec::parse("picam:1").unwrap();
    let mut src = capture::open(&spec, &picam_config(&program), &models).unwrap();
    let mut events = Vec::new();
    let mut frames = 0;
    while frames < 4 {
        match src.poll().unwrap() {
            Poll::Frame(f) => {
                assert_eq!(f.seq, frames);
                frames += 1;
            }
            Poll::Event(e) => events.push(e),
            Poll::Idle => {}
            Poll::End => panic!("a live source never ends"),
        }
    }
    assert!(
        matches!(&events[0], SourceEvent::Lost { reason, .. }
            if reason.contains("exited") && reason.contains("camera went away")),
        "{events:?}"
    );
    assert!(
        matches!(events[1], SourceEvent::Restored { .. }),
        "{events:?}"
    );
}

#[test]
fn picam_that_stalls_times_out_instead_of_hanging() {
    let raw = fixture("picam_i420_3f_128x72.yuv");
    let dir = tempfile::tempdir().unwrap();
    // One frame and a half, then silence (alive, pipe open).
    let program = stand_in(
        dir.path(),
        &format!("head -c 20736 '{}'\nsleep 60", raw.display()),
    );
    let mut src = capture::PicamSource::open(0, &picam_config(&program)).unwrap();
    assert!(src.next_frame().unwrap().is_some());
    let t0 = Instant::now();
    let err = src.next_frame().unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert!(err.to_string().contains("read timeout"), "{err}");
    // Later calls fail fast too.
    assert!(src.next_frame().is_err());
}

#[test]
fn picam_without_its_program_is_a_clear_error() {
    let config = CaptureConfig {
        picam_program: "/nonexistent/rpicam-vid".into(),
        ..Default::default()
    };
    let err = capture::PicamSource::open(0, &config).err().unwrap();
    assert!(matches!(err, CaptureError::PicamMissing), "{err}");
}

fn stream_config(timeout_s: f64) -> CaptureConfig {
    CaptureConfig {
        width: 96,
        height: 54,
        stream_timeout_s: timeout_s,
        ..Default::default()
    }
}

#[test]
fn tcp_stream_is_decoded_live_and_its_end_is_an_error() {
    // The clip 10 times as MPEG-TS (120 frames, 4 s; the first ones go to
    // ffmpeg's probe, which `-fflags nobuffer` does not decode), served once
    // over a local TCP socket.
    let dir = tempfile::tempdir().unwrap();
    let ts = dir.path().join("clip.ts");
    let ok = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-stream_loop", "9", "-i"])
        .arg(fixture("clip_12f_160x90.mp4"))
        .args(["-an", "-c", "copy", "-f", "mpegts"])
        .arg(&ts)
        .status()
        .unwrap();
    assert!(ok.success());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let spec = SourceSpec::parse(&format!("tcp://127.0.0.1:{port}")).unwrap();
    // Through capture::open a live stream is reopened when it ends (see
    // capture::live); the stream source itself reports its end as an error.
    let models = vigil::models::resolve_dir(None).unwrap();
    let elsewhere = SourceSpec::parse("tcp://127.0.0.1:9").unwrap();
    assert!(capture::open(&elsewhere, &stream_config(5.0), &models)
        .unwrap()
        .is_live());
    assert!(!spec.is_replay());
    let url = format!("tcp://127.0.0.1:{port}");
    let mut src = capture::StreamSource::open(&url, &stream_config(5.0)).unwrap();
    assert!(src.is_live());
    let (mut conn, _) = listener.accept().unwrap();
    let bytes = std::fs::read(&ts).unwrap();
    // A writer beside the reader: the stream outgrows the pipe and socket buffers.
    #[allow(clippy::disallowed_methods)] // a test's stand-in server, not the pipeline
    let server = std::thread::spawn(move || {
        let _ = conn.write_all(&bytes);
    });
    let mut frames = Vec::new();
    let err = loop {
        match src.next_frame() {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => panic!("a live stream never ends with Ok(None)"),
            Err(e) => break e,
        }
    };
    server.join().unwrap();
    assert!(frames.len() >= 30, "{} frames", frames.len());
    let f = &frames[5];
    // 160x90 fits 96x54 exactly (same aspect): no bars, a real picture.
    assert_eq!((f.width(), f.height()), (96, 54));
    let raw = f.image.as_raw();
    let mean = raw.iter().map(|v| *v as f64).sum::<f64>() / raw.len() as f64;
    assert!(mean > 20.0 && mean < 235.0, "mean {mean}");
    assert!(matches!(err, CaptureError::Stream { .. }), "{err}");
    assert!(err.to_string().contains("ended"), "{err}");
}

#[test]
fn refused_stream_is_an_error_without_its_password() {
    // A port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("rtsp://admin:hunter2@127.0.0.1:{port}/live");
    let spec = SourceSpec::parse(&url).unwrap();
    assert!(!spec.to_string().contains("hunter2"));
    let mut src = capture::StreamSource::open(&url, &stream_config(2.0)).unwrap();
    assert!(!src.describe().contains("hunter2"), "{}", src.describe());
    let t0 = Instant::now();
    let err = src.next_frame().unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(10));
    let text = err.to_string();
    assert!(matches!(err, CaptureError::Stream { .. }), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("***@127.0.0.1"), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

#[test]
fn silent_stream_times_out_instead_of_hanging() {
    // Accepts the connection and never sends a byte.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("tcp://127.0.0.1:{port}");
    let mut src = capture::StreamSource::open(&url, &stream_config(1.0)).unwrap();
    let (_conn, _) = listener.accept().unwrap();
    let t0 = Instant::now();
    let err = src.next_frame().unwrap_err();
    assert!(
        t0.elapsed() < Duration::from_secs(8),
        "{:?}: {err}",
        t0.elapsed()
    );
    assert!(matches!(err, CaptureError::Stream { .. }), "{err}");
}
