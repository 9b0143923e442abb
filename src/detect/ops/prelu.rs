//! A fast per-channel PReLU for tract.
//!
//! tract-onnx 0.23.9 expands ONNX `PRelu` into `Mul` + `Greater` + `Iff` over
//! broadcast tensors. On the MTCNN nets those three generic ops took 40-70% of
//! each run (R-Net batch 16: about 5.5 of 8 ms), more than the convolutions.
//! MTCNN's slopes are constants along one axis (the channels), so one pass
//! over contiguous runs does the same job: `y = x > 0 ? x : slope[c] * x`.
//!
use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

/// ONNX translation of `PRelu` to [`ChannelPrelu`].
pub fn onnx_prelu(
    _ctx: &ParsingContext,
    _node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    Ok((expand(PreluExpansion), vec![]))
}

/// The inference-time face of the op: checks types, then wires [`ChannelPrelu`]
/// with the constant slope folded in.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct PreluExpansion;

impl Expansion for PreluExpansion {
    fn name(&self) -> StaticName {
        "ChannelPreluExpansion".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        super::same_as_first_input(s, inputs, outputs, 2)
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let x = model.outlet_fact(inputs[0])?.clone();
        if x.datum_type != f32::datum_type() {
            bail!("{name}: PRelu on {:?}, only f32 is supported", x.datum_type);
        }
        let slope = model
            .outlet_fact(inputs[1])?
            .konst
            .clone()
            .with_context(|| format!("{name}: the PRelu slope must be a constant"))?;
        let op = ChannelPrelu::new(&slope, x.rank())
            .with_context(|| format!("{name}: unsupported PRelu slope shape"))?;
        model.wire_node(name, op, &[inputs[0]])
    }
}

/// `y = x > 0 ? x : slope[i] * x`, where `i` is the index along `axis`
/// (or one slope for every element when `axis` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChannelPrelu {
    axis: Option<usize>,
    /// Slopes as `f32` bit patterns (so the op can be `Eq` and `Hash`).
    slope_bits: Vec<u32>,
}

impl ChannelPrelu {
    /// Builds the op from an ONNX slope tensor broadcast (numpy-style, aligned
    /// right) against an input of rank `rank`. The slope may vary along at most
    /// one axis.
    pub fn new(slope: &Tensor, rank: usize) -> TractResult<Self> {
        let shape = slope.shape();
        if shape.len() > rank {
            bail!("slope rank {} exceeds input rank {rank}", shape.len());
        }
        let offset = rank - shape.len();
        let varying: Vec<usize> = shape
            .iter()
            .enumerate()
            .filter(|(_, d)| **d != 1)
            .map(|(ix, _)| ix + offset)
            .collect();
        if varying.len() > 1 {
            bail!("slope shape {shape:?} varies along more than one axis");
        }
        let values = slope.cast_to::<f32>()?;
        let values = values.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
        Ok(Self {
            axis: varying.first().copied(),
            slope_bits: values.iter().map(|v| v.to_bits()).collect(),
        })
    }

    fn slopes(&self) -> Vec<f32> {
        self.slope_bits.iter().map(|b| f32::from_bits(*b)).collect()
    }

    /// Applies the activation in place to `data` laid out in `shape`.
    pub fn apply(&self, data: &mut [f32], shape: &[usize]) -> TractResult<()> {
        let slopes = self.slopes();
        match self.axis {
            None => {
                let a = slopes.first().copied().unwrap_or(0.0);
                prelu_run(data, a);
            }
            Some(axis) => {
                let channels = shape.get(axis).copied().unwrap_or(0);
                if channels != slopes.len() {
                    bail!(
                        "input has {channels} channels on axis {axis}, slope has {}",
                        slopes.len()
                    );
                }
                let inner: usize = shape[axis + 1..].iter().product();
                if inner == 0 {
                    return Ok(());
                }
                for (ix, run) in data.chunks_exact_mut(inner).enumerate() {
                    prelu_run(run, slopes[ix % channels]);
                }
            }
        }
        Ok(())
    }
}

/// One contiguous run sharing a slope; written so that it vectorises.
#[inline]
fn prelu_run(run: &mut [f32], a: f32) {
    for v in run.iter_mut() {
        let x = *v;
        *v = if x > 0.0 { x } else { x * a };
    }
}

impl Op for ChannelPrelu {
    fn name(&self) -> StaticName {
        "ChannelPrelu".into()
    }

    op_as_typed_op!();
}

impl EvalOp for ChannelPrelu {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = super::single_input(inputs, "ChannelPrelu")?;
        let mut tensor = input.into_tensor();
        let shape: TVec<usize> = tensor.shape().into();
        self.apply(
            tensor.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?,
            &shape,
        )?;
        Ok(tvec!(tensor.into_tvalue()))
    }
}

impl TypedOp for ChannelPrelu {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(inputs[0].datum_type.fact(inputs[0].shape.clone())))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: f32, a: f32) -> f32 {
        if x > 0.0 {
            x
        } else {
            a * x
        }
    }

    #[test]
    fn per_channel_nchw_matches_the_definition() {
        let slope = tensor1(&[0.5f32, -2.0, 0.0])
            .into_shape(&[1, 3, 1, 1])
            .unwrap();
        let op = ChannelPrelu::new(&slope, 4).unwrap();
        let shape = [2usize, 3, 2, 2];
        let input: Vec<f32> = (0..24).map(|i| i as f32 - 11.5).collect();
        let mut data = input.clone();
        op.apply(&mut data, &shape).unwrap();
        for (i, (x, y)) in input.iter().zip(&data).enumerate() {
            let c = (i / 4) % 3;
            assert_eq!(*y, reference(*x, [0.5, -2.0, 0.0][c]), "element {i}");
        }
    }

    #[test]
    fn rank_one_slope_aligns_with_the_last_axis() {
        let slope = tensor1(&[0.1f32, 0.2]);
        let op = ChannelPrelu::new(&slope, 2).unwrap();
        let mut data = vec![-1.0f32, -1.0, 3.0, -10.0];
        op.apply(&mut data, &[2, 2]).unwrap();
        assert_eq!(data, vec![-0.1, -0.2, 3.0, -2.0]);
    }

    #[test]
    fn slopes_varying_on_two_axes_are_refused() {
        let slope = Tensor::zero::<f32>(&[2, 3]).unwrap();
        assert!(ChannelPrelu::new(&slope, 4).is_err());
    }

    #[test]
    fn channel_count_mismatch_is_an_error() {
        let slope = tensor1(&[0.1f32, 0.2]);
        let op = ChannelPrelu::new(&slope, 2).unwrap();
        let mut data = vec![0.0f32; 6];
        assert!(op.apply(&mut data, &[2, 3]).is_err());
    }
}
