//! `vigil eval`: accuracy of the stages on labelled data.

pub mod scene;
