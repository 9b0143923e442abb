//! What a stage expects of a model file: its name, role, input and outputs.
//! The specs themselves live beside the stage that runs each model.

/// One dimension of an expected tensor shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// Any size (batch, or an image side the model accepts freely).
    Any,
    /// Exactly this size.
    Fixed(usize),
}

/// The name and shape a stage expects of one input or output.
#[derive(Debug, Clone, Copy)]
pub struct TensorSpec {
    /// The tensor's name in the graph.
    pub name: &'static str,
    /// Its shape, axis by axis.
    pub shape: &'static [Dim],
}

/// What a stage expects of a model file.
#[derive(Debug)]
pub struct ModelSpec {
    /// File name inside the models directory (and the manifest).
    pub file: &'static str,
    /// What it does, for `vigil models`.
    pub role: &'static str,
    /// Its one input.
    pub input: TensorSpec,
    /// The outputs a plan returns, in this order.
    pub outputs: &'static [TensorSpec],
    /// A representative concrete input shape, used by `vigil models` to time a plan.
    pub probe_shape: &'static [usize],
}

/// `shape` fits `spec`: same rank, fixed axes equal, free axes non-zero.
pub fn shape_matches(shape: &[usize], spec: &[Dim]) -> bool {
    shape.len() == spec.len()
        && shape.iter().zip(spec).all(|(n, d)| match d {
            Dim::Any => *n > 0,
            Dim::Fixed(f) => n == f,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dim::{Any, Fixed};

    #[test]
    fn shapes_match_fixed_and_any() {
        let chip: &[Dim] = &[Any, Fixed(3), Fixed(150), Fixed(150)];
        let crops: &[Dim] = &[Any, Fixed(24), Fixed(24), Fixed(3)];
        assert!(shape_matches(&[1, 3, 150, 150], chip));
        assert!(!shape_matches(&[1, 3, 160, 160], chip));
        assert!(!shape_matches(&[1, 3, 150], chip));
        assert!(!shape_matches(&[0, 24, 24, 3], crops));
    }
}
