//! 2-D max pooling over NCHW planes, one pass per output row.
//!
//! Handles the plain ONNX `MaxPool`: two spatial axes, any kernel and stride,
//! `auto_pad` VALID / SAME_UPPER / SAME_LOWER or explicit `pads`, `ceil_mode`;
//! no dilation and no `Indices` output (refused with an error at load time).
//! Padding never wins a max (it is skipped, as ONNX specifies).

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::cnn::{PaddingSpec, PoolSpec};
use tract_onnx::tract_hir::ops::nn::DataFormat;

/// ONNX translation of `MaxPool` to [`MaxPool2d`].
pub fn onnx_max_pool(
    _ctx: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    if node.output.len() != 1 {
        bail!(
            "{}: MaxPool with an Indices output is not supported",
            node.name
        );
    }
    let kernel: TVec<usize> = node.get_attr_tvec("kernel_shape")?;
    if kernel.len() != 2 {
        bail!("{}: only 2-D MaxPool is supported", node.name);
    }
    if let Some(d) = node.get_attr_opt_tvec::<usize>("dilations")? {
        if d.iter().any(|d| *d != 1) {
            bail!("{}: dilated MaxPool is not supported", node.name);
        }
    }
    let strides: TVec<usize> = node
        .get_attr_opt_tvec("strides")?
        .unwrap_or_else(|| tvec![1; 2]);
    let ceil_mode = node.get_attr_opt::<i64>("ceil_mode")?.unwrap_or(0) == 1;
    let padding = match node.get_attr_opt::<&str>("auto_pad")?.unwrap_or("NOTSET") {
        "VALID" => PaddingSpec::Valid,
        "SAME_UPPER" => PaddingSpec::SameUpper,
        "SAME_LOWER" => PaddingSpec::SameLower,
        "NOTSET" => match node.get_attr_opt_tvec::<usize>("pads")? {
            Some(p) if p.len() == 4 => {
                PaddingSpec::ExplicitOnnxPool(tvec![p[0], p[1]], tvec![p[2], p[3]], ceil_mode)
            }
            Some(p) => bail!("{}: MaxPool pads {p:?} are not 2-D", node.name),
            None => PaddingSpec::ExplicitOnnxPool(tvec![0, 0], tvec![0, 0], ceil_mode),
        },
        other => bail!("{}: unknown auto_pad {other}", node.name),
    };
    let spec = PoolSpec::new(DataFormat::NCHW, kernel, padding, None, Some(strides), 0, 0);
    Ok((expand(MaxPoolExpansion { spec }), vec![]))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct MaxPoolExpansion {
    spec: PoolSpec,
}

impl Expansion for MaxPoolExpansion {
    fn name(&self) -> StaticName {
        "MaxPool2dExpansion".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&outputs[0].datum_type, &inputs[0].datum_type)?;
        s.equals(&outputs[0].rank, &inputs[0].rank)?;
        s.given(&inputs[0].shape, move |s, shape| {
            if shape.len() != 4 {
                bail!("MaxPool2d expects NCHW input, got rank {}", shape.len());
            }
            let padded = self.spec.computed_padding(&shape[2..]);
            let out: TVec<TDim> = tvec![
                shape[0].clone(),
                shape[1].clone(),
                padded[0].convoluted.clone(),
                padded[1].convoluted.clone()
            ];
            s.equals(&outputs[0].shape, out)
        })
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let fact = model.outlet_fact(inputs[0])?.clone();
        if fact.datum_type != f32::datum_type() || fact.rank() != 4 {
            bail!("{name}: MaxPool2d takes rank-4 f32, got {fact:?}");
        }
        let h = fact.shape[2]
            .to_usize()
            .with_context(|| format!("{name}: input height must be known"))?;
        let w = fact.shape[3]
            .to_usize()
            .with_context(|| format!("{name}: input width must be known"))?;
        let padded = self.spec.computed_padding(&[h, w]);
        let strides = self.spec.strides();
        let op = MaxPool2d {
            kernel: [self.spec.kernel_shape[0], self.spec.kernel_shape[1]],
            stride: [strides[0], strides[1]],
            pad_before: [padded[0].pad_before, padded[1].pad_before],
            input_hw: [h, w],
            output_hw: [padded[0].convoluted, padded[1].convoluted],
        };
        model.wire_node(name, op, &[inputs[0]])
    }
}

/// Max pooling of NCHW `f32` with precomputed geometry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MaxPool2d {
    /// Window size, `[height, width]`, in input pixels.
    pub kernel: [usize; 2],
    /// Step between windows, `[vertical, horizontal]`, in input pixels.
    pub stride: [usize; 2],
    /// Padding before the first row and column, `[top, left]`, in pixels.
    pub pad_before: [usize; 2],
    /// Input plane size, `[height, width]`.
    pub input_hw: [usize; 2],
    /// Output plane size, `[height, width]`.
    pub output_hw: [usize; 2],
}

impl MaxPool2d {
    /// Pools every `input_hw` plane of `input` into the matching `output_hw`
    /// plane of `output`.
    pub fn pool(&self, input: &[f32], output: &mut [f32]) -> TractResult<()> {
        let [ih, iw] = self.input_hw;
        let [oh, ow] = self.output_hw;
        let (in_plane, out_plane) = (ih * iw, oh * ow);
        if in_plane == 0 || out_plane == 0 {
            return Ok(());
        }
        if input.len() % in_plane != 0 || output.len() != input.len() / in_plane * out_plane {
            bail!("MaxPool2d: buffer sizes do not match the geometry");
        }
        // Window bounds per output column, clipped to the input.
        let cols: Vec<(usize, usize)> = (0..ow)
            .map(|ox| self.window(ox, 1, iw))
            .collect::<TractResult<_>>()?;
        let rows: Vec<(usize, usize)> = (0..oh)
            .map(|oy| self.window(oy, 0, ih))
            .collect::<TractResult<_>>()?;
        // Vertical max of the window's rows first (whole rows: vectorises),
        // then the horizontal max of each window in that row.
        let mut column_max = vec![0.0f32; iw];
        for (src, dst) in input
            .chunks_exact(in_plane)
            .zip(output.chunks_exact_mut(out_plane))
        {
            for (out_row, &(y0, y1)) in dst.chunks_exact_mut(ow).zip(&rows) {
                column_max.copy_from_slice(&src[y0 * iw..(y0 + 1) * iw]);
                for y in y0 + 1..y1 {
                    for (m, v) in column_max.iter_mut().zip(&src[y * iw..(y + 1) * iw]) {
                        // A select, not a conditional store: this vectorises.
                        *m = if *v > *m { *v } else { *m };
                    }
                }
                for (o, (x0, x1)) in out_row.iter_mut().zip(&cols) {
                    let window = &column_max[*x0..*x1];
                    let mut m = window[0];
                    for v in &window[1..] {
                        m = if *v > m { *v } else { m };
                    }
                    *o = m;
                }
            }
        }
        Ok(())
    }

    /// The input range `[start, end)` of output index `o` on `axis`.
    fn window(&self, o: usize, axis: usize, len: usize) -> TractResult<(usize, usize)> {
        let start = (o * self.stride[axis]) as isize - self.pad_before[axis] as isize;
        let end = start + self.kernel[axis] as isize;
        let (s, e) = (start.max(0) as usize, end.clamp(0, len as isize) as usize);
        if s >= e {
            bail!("MaxPool2d: output {o} on axis {axis} covers no input");
        }
        Ok((s, e))
    }
}

impl Op for MaxPool2d {
    fn name(&self) -> StaticName {
        "MaxPool2d".into()
    }

    op_as_typed_op!();
}

impl EvalOp for MaxPool2d {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = super::single_input(inputs, "MaxPool2d")?;
        let shape = input.shape();
        if shape.len() != 4 || shape[2..] != self.input_hw {
            bail!("MaxPool2d: input shape {shape:?} does not match the plan");
        }
        let out_shape = [shape[0], shape[1], self.output_hw[0], self.output_hw[1]];
        let mut output = Tensor::zero::<f32>(&out_shape)?;
        self.pool(
            input.try_as_plain_ram()?.as_slice::<f32>()?,
            output.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?,
        )?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for MaxPool2d {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let mut shape: TVec<TDim> = inputs[0].shape.iter().cloned().collect();
        if shape.len() != 4 {
            bail!("MaxPool2d takes rank-4 input");
        }
        shape[2] = self.output_hw[0].into();
        shape[3] = self.output_hw[1].into();
        Ok(tvec!(inputs[0].datum_type.fact(shape)))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(input: &[f32], op: &MaxPool2d) -> Vec<f32> {
        let [ih, iw] = op.input_hw;
        let [oh, ow] = op.output_hw;
        let mut out = vec![];
        for oy in 0..oh {
            for ox in 0..ow {
                let mut m = f32::NEG_INFINITY;
                for ky in 0..op.kernel[0] {
                    for kx in 0..op.kernel[1] {
                        let y = (oy * op.stride[0] + ky) as isize - op.pad_before[0] as isize;
                        let x = (ox * op.stride[1] + kx) as isize - op.pad_before[1] as isize;
                        if y >= 0 && x >= 0 && (y as usize) < ih && (x as usize) < iw {
                            m = m.max(input[y as usize * iw + x as usize]);
                        }
                    }
                }
                out.push(m);
            }
        }
        out
    }

    fn geometry(padding: PaddingSpec, k: usize, s: usize, h: usize, w: usize) -> MaxPool2d {
        let spec = PoolSpec::new(
            DataFormat::NCHW,
            tvec![k, k],
            padding,
            None,
            Some(tvec![s, s]),
            0,
            0,
        );
        let p = spec.computed_padding(&[h, w]);
        MaxPool2d {
            kernel: [k, k],
            stride: [s, s],
            pad_before: [p[0].pad_before, p[1].pad_before],
            input_hw: [h, w],
            output_hw: [p[0].convoluted, p[1].convoluted],
        }
    }

    #[test]
    fn matches_a_naive_pool_for_the_mtcnn_geometries() {
        for (padding, k, s, h, w) in [
            (PaddingSpec::SameUpper, 2, 2, 7, 10),
            (PaddingSpec::SameUpper, 3, 2, 22, 22),
            (PaddingSpec::Valid, 3, 2, 9, 11),
            (PaddingSpec::SameUpper, 2, 2, 6, 6),
        ] {
            let op = geometry(padding.clone(), k, s, h, w);
            let input: Vec<f32> = (0..2 * h * w)
                .map(|i| ((i * 7919) % 97) as f32 - 50.0)
                .collect();
            let planes = 2;
            let mut out = vec![0.0; planes * op.output_hw[0] * op.output_hw[1]];
            op.pool(&input, &mut out).unwrap();
            let mut expected = naive(&input[..h * w], &op);
            expected.extend(naive(&input[h * w..], &op));
            assert_eq!(out, expected, "{padding:?} k{k} s{s} {h}x{w}");
        }
    }

    #[test]
    fn same_upper_output_size_is_ceil() {
        let op = geometry(PaddingSpec::SameUpper, 2, 2, 7, 10);
        assert_eq!(op.output_hw, [4, 5]);
        let op = geometry(PaddingSpec::Valid, 3, 2, 9, 11);
        assert_eq!(op.output_hw, [4, 5]);
    }
}
