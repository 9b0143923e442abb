//! Frame sources on small real fixtures, and their errors.

use vigil::capture::CaptureConfig;
use vigil::capture::{self, CaptureError, DirSource, FrameSource, SourceSpec, VideoSource};

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
fn dir_source_names_an_undecodable_image() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("frames/01.png"), dir.path().join("a.png")).unwrap();
    std::fs::write(dir.path().join("b.png"), b"not a png").unwrap();
    let mut src = DirSource::open(dir.path(), 30.0).unwrap();
    assert!(src.next_frame().unwrap().is_some());
    let err = src.next_frame().unwrap_err();
    assert!(matches!(err, CaptureError::Image { .. }));
    assert!(err.to_string().contains("b.png"), "{err}");
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
