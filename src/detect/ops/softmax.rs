//! Softmax over the last axis, row by row.
//!
//! ONNX `Softmax` before opset 13 flattens the axes from `axis` on; from 13 it
//! normalises along `axis` alone. When `axis` is the last axis both readings
//! agree, and that is the only case translated here (anything else is refused
//! at load time with an error naming the node).

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

/// ONNX translation of `Softmax` to [`LastAxisSoftmax`].
pub fn onnx_softmax(
    ctx: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let default = if ctx.onnx_operator_set_version < 13 {
        1
    } else {
        -1
    };
    let axis = node.get_attr_opt::<i64>("axis")?.unwrap_or(default);
    Ok((
        expand(SoftmaxExpansion {
            axis,
            node: node.name.clone(),
        }),
        vec![],
    ))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct SoftmaxExpansion {
    axis: i64,
    node: String,
}

impl Expansion for SoftmaxExpansion {
    fn name(&self) -> StaticName {
        "LastAxisSoftmaxExpansion".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        super::same_as_first_input(s, inputs, outputs, 1)
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let fact = model.outlet_fact(inputs[0])?.clone();
        let rank = fact.rank() as i64;
        let axis = if self.axis < 0 {
            self.axis + rank
        } else {
            self.axis
        };
        if axis != rank - 1 {
            bail!(
                "{}: Softmax on axis {} of a rank-{rank} tensor; only the last axis is supported",
                self.node,
                self.axis
            );
        }
        if fact.datum_type != f32::datum_type() {
            bail!("{}: Softmax on {:?}, only f32", self.node, fact.datum_type);
        }
        model.wire_node(name, LastAxisSoftmax, &[inputs[0]])
    }
}

/// Softmax along the last axis of an `f32` tensor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LastAxisSoftmax;

impl LastAxisSoftmax {
    /// Normalises each run of `row` values in place.
    pub fn apply(data: &mut [f32], row: usize) {
        if row == 0 {
            return;
        }
        if row == 2 {
            // Two classes: the logistic of the difference, one exp per row.
            for r in data.chunks_exact_mut(2) {
                let p1 = 1.0 / (1.0 + (r[0] - r[1]).exp());
                r[0] = 1.0 - p1;
                r[1] = p1;
            }
            return;
        }
        for r in data.chunks_exact_mut(row) {
            let max = r.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for v in r.iter_mut() {
                *v = (*v - max).exp();
                sum += *v;
            }
            let inv = 1.0 / sum;
            for v in r.iter_mut() {
                *v *= inv;
            }
        }
    }
}

impl Op for LastAxisSoftmax {
    fn name(&self) -> StaticName {
        "LastAxisSoftmax".into()
    }

    op_as_typed_op!();
}

impl EvalOp for LastAxisSoftmax {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let mut tensor = super::single_input(inputs, "LastAxisSoftmax")?.into_tensor();
        let row = tensor.shape().last().copied().unwrap_or(1);
        Self::apply(tensor.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?, row);
        Ok(tvec!(tensor.into_tvalue()))
    }
}

impl TypedOp for LastAxisSoftmax {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(inputs[0].datum_type.fact(inputs[0].shape.clone())))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sum_to_one_and_keep_order() {
        let mut data = vec![0.0f32, 1.0, 2.0, 1000.0, 1000.0, -5.0];
        LastAxisSoftmax::apply(&mut data, 3);
        let mut pair = vec![1000.0f32, -1000.0];
        LastAxisSoftmax::apply(&mut pair, 2);
        assert_eq!(pair, vec![1.0, 0.0], "saturated logits stay finite");
        for r in data.chunks(3) {
            assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        assert!(data[2] > data[1] && data[1] > data[0]);
        assert!((data[3] - 0.5).abs() < 1e-6, "large logits stay finite");
    }

    #[test]
    fn two_class_softmax_is_the_logistic_of_the_difference() {
        let mut data = vec![0.3f32, 1.7];
        LastAxisSoftmax::apply(&mut data, 2);
        let p = 1.0 / (1.0 + (0.3f32 - 1.7).exp());
        assert!((data[1] - p).abs() < 1e-6);
    }
}
