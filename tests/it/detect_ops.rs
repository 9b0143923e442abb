//! The detector's fast op translations compute what tract's own do.

use vigil::detect::ops;
use vigil::detect::specs::{ONET, PNET, RNET};
use vigil::models::{self, ModelSpec};

use crate::support::store;

/// Deterministic inputs in the models' normalised range [-1, 1].
fn input(n: usize) -> Vec<f32> {
    let mut state = 0x2545_f491_u32;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state % 2001) as f32 / 1000.0 - 1.0
        })
        .collect()
}

fn compare(spec: &'static ModelSpec, shape: &[usize]) {
    let store = store();
    let id = spec.file;
    let plain = store.load_spec(spec).unwrap();
    let fast = store.load_spec_with_ops(spec, ops::register).unwrap();
    let n: usize = shape.iter().product();
    let data = input(n);
    let a = plain.plan(shape).unwrap().run_f32(data.clone()).unwrap();
    let b = fast.plan(shape).unwrap().run_f32(data).unwrap();
    assert_eq!(a.len(), b.len());
    for ix in 0..spec.outputs.len() {
        let x = models::output_f32(&a, ix, spec.file).unwrap();
        let y = models::output_f32(&b, ix, spec.file).unwrap();
        assert_eq!(x.len(), y.len());
        let worst = x
            .iter()
            .zip(y)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "{id} output {ix}: max difference {worst}");
    }
}

#[test]
fn pnet_outputs_match_tract_translation() {
    compare(&PNET, &[1, 37, 23, 3]);
}

#[test]
fn rnet_outputs_match_tract_translation() {
    compare(&RNET, &[3, 24, 24, 3]);
}

#[test]
fn onet_outputs_match_tract_translation() {
    compare(&ONET, &[2, 48, 48, 3]);
}
