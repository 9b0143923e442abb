//! Faster tract translations of three ONNX ops that dominate the MTCNN nets.
//!
//! tract-onnx 0.23.9 runs `PRelu` as three generic broadcast ops, `MaxPool`
//! and a two-class `Softmax` through general-purpose kernels; on the P-, R- and
//! O-Net these took more time than the convolutions (measured per node with
//! `SimpleState::run_plan_with_eval`; see `dev/perf/README.md`). The ops here
//! do the same arithmetic in one pass over contiguous memory. They are
//! registered only when the detector loads its three models
//! ([`register`], passed to `ModelStore::load_spec_with_ops`); the graphs,
//! weights and every other op stay tract's.

mod max_pool;
mod prelu;
mod softmax;

pub use max_pool::MaxPool2d;
pub use prelu::ChannelPrelu;
pub use softmax::LastAxisSoftmax;

use tract_onnx::tract_hir::internal::*;

/// Registers the fast translations of `PRelu`, `MaxPool` and `Softmax`.
pub fn register(onnx: &mut tract_onnx::Onnx) {
    onnx.op_register.insert("PRelu", prelu::onnx_prelu);
    onnx.op_register.insert("MaxPool", max_pool::onnx_max_pool);
    onnx.op_register.insert("Softmax", softmax::onnx_softmax);
}

/// Inference rules of an op whose one output has the type and shape of its
/// first input (`arity` inputs in all).
fn same_as_first_input<'r, 'p: 'r>(
    s: &mut Solver<'r>,
    inputs: &'p [TensorProxy],
    outputs: &'p [TensorProxy],
    arity: usize,
) -> InferenceResult {
    check_input_arity(inputs, arity)?;
    check_output_arity(outputs, 1)?;
    s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
    s.equals(&inputs[0].shape, &outputs[0].shape)?;
    Ok(())
}

/// The one input of a unary op.
fn single_input(mut inputs: TVec<TValue>, op: &str) -> TractResult<TValue> {
    match (inputs.pop(), inputs.is_empty()) {
        (Some(input), true) => Ok(input),
        _ => bail!("{op} takes exactly one input"),
    }
}
