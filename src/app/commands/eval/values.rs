//! Command-line values for enums that lower layers define (they do not know
//! clap): each listed with the same names as in the config file.

use clap::builder::PossibleValue;
use clap::ValueEnum;

use crate::core::align::ChipTemplate;
use crate::emotion::TtaMode;
use crate::verify::EmbeddingModel;

impl ValueEnum for EmbeddingModel {
    fn value_variants<'a>() -> &'a [Self] {
        &[EmbeddingModel::Dlib, EmbeddingModel::Sface]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            EmbeddingModel::Dlib => "dlib",
            EmbeddingModel::Sface => "sface",
        }))
    }
}

impl ValueEnum for ChipTemplate {
    fn value_variants<'a>() -> &'a [Self] {
        &[ChipTemplate::Dlib, ChipTemplate::Arcface]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            ChipTemplate::Dlib => "dlib",
            ChipTemplate::Arcface => "arcface",
        }))
    }
}

impl ValueEnum for TtaMode {
    fn value_variants<'a>() -> &'a [Self] {
        &[TtaMode::None, TtaMode::Flip, TtaMode::Shifts]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            TtaMode::None => "none",
            TtaMode::Flip => "flip",
            TtaMode::Shifts => "shifts",
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command line and the config file spell every value alike.
    #[test]
    fn names_match_serde() {
        for v in ChipTemplate::value_variants() {
            let cli = v.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(cli));
        }
        for v in TtaMode::value_variants() {
            let cli = v.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(cli));
        }
        for v in EmbeddingModel::value_variants() {
            let cli = v.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(cli));
        }
    }
}
