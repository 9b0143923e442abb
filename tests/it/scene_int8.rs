//! The int8 MobileNetV2 agrees with the fp32 one on real images. In CI this
//! suite also runs for aarch64 under qemu, where tract uses its int8 kernels:
//! a correctness check of the int8 path on the board's architecture.

use std::path::Path;

use image::RgbImage;
use vigil::models::ModelStore;
use vigil::scene::backbone::{Backbone, BackboneOutput, BackboneVariant};

fn image(name: &str) -> RgbImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/detect")
        .join(name);
    image::open(&path).unwrap().into_rgb8()
}

fn run(variant: BackboneVariant, img: &RgbImage) -> BackboneOutput {
    let store = ModelStore::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models"));
    Backbone::with_variant(&store, variant)
        .unwrap()
        .process(img)
        .unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap()
}

#[test]
fn int8_features_and_top1_follow_fp32() {
    for name in [
        "coffee_320x213.jpg",
        "astronaut_face_256.jpg",
        "t1_640x480.jpg",
    ] {
        let img = image(name);
        let f = run(BackboneVariant::Fp32, &img);
        let q = run(BackboneVariant::Int8, &img);
        assert_eq!(f.features.len(), 1280);
        assert_eq!(q.features.len(), 1280);
        assert!(q.features.iter().all(|x| x.is_finite()), "{name}");
        // models/quantize/README.md: mean cosine 0.976 over 221 images.
        let c = cosine(&f.features, &q.features);
        assert!(c > 0.9, "{name}: feature cosine {c}");
        // The int8 top-1 class is among fp32's top 5.
        let top = argmax(&q.logits);
        let mut order: Vec<usize> = (0..f.logits.len()).collect();
        order.sort_by(|a, b| f.logits[*b].total_cmp(&f.logits[*a]));
        assert!(
            order[..5].contains(&top),
            "{name}: int8 top-1 {top} not in fp32 top-5"
        );
    }
}
