//! The messages that flow from the stages to the presenters, and the
//! consumer impls that let the pipeline run the stages: the one place that
//! knows every stage's verdict type. Adding a stage = a variant here, its
//! `Consumer` impl below, one line in [`super::build`] and its presenter arm.

use std::sync::Arc;

use crate::attention::{AttentionAlert, AttentionReport, AttentionStage};
use crate::capture::SourceEvent;
use crate::emotion::{Alert, EmotionReport, EmotionStage};
use crate::pipeline::{Analysis, Consumer, Message, StageResult, Stamp};
use crate::scene::{SceneStage, SceneVerdict};
use crate::verify::report::VerifyVerdict;
use crate::verify::stage::VerifyStage;

/// A message to the presenter.
#[derive(Debug, Clone)]
pub enum Update {
    /// A frame went through the front stage (sent for every processed frame).
    Faces(Arc<Analysis>),
    /// The scene classifier's verdict on a frame.
    Scene(Stamp, SceneVerdict),
    /// The verifier's verdict on every face of a frame.
    Verify(Stamp, VerifyVerdict),
    /// The emotion stage's smoothed per-track emotions and mood shares.
    Emotion(Stamp, EmotionReport),
    /// A driver-mood alert started or ended.
    Alert(Stamp, Alert),
    /// The attention stage's figures for the driver.
    Attention(Stamp, AttentionReport),
    /// A driver-attention alert started or ended (presented in the same
    /// `alert` event stream as the mood alerts).
    AttentionAlert(Stamp, AttentionAlert),
    /// The live source was lost or came back.
    Source(Stamp, SourceEvent),
}

impl Update {
    /// The frame this update was computed on.
    pub fn stamp(&self) -> Stamp {
        match self {
            Update::Faces(a) => a.stamp(),
            Update::Scene(s, _) => *s,
            Update::Verify(s, _) => *s,
            Update::Emotion(s, _) => *s,
            Update::Alert(s, _) => *s,
            Update::Attention(s, _) => *s,
            Update::AttentionAlert(s, _) => *s,
            Update::Source(s, _) => *s,
        }
    }

    /// True for consumer verdicts (counted in capture-to-verdict latency).
    pub fn is_verdict(&self) -> bool {
        !matches!(self, Update::Faces(_))
    }
}

impl Message for Update {
    fn frame(analysis: Arc<Analysis>) -> Self {
        Update::Faces(analysis)
    }

    fn source(event: SourceEvent, stamp: Stamp) -> Self {
        Update::Source(stamp, event)
    }

    fn stamp(&self) -> Stamp {
        Update::stamp(self)
    }

    fn is_verdict(&self) -> bool {
        Update::is_verdict(self)
    }
}

impl Consumer<Update> for VerifyStage {
    fn name(&self) -> &'static str {
        VerifyStage::NAME
    }

    fn process(&mut self, analysis: &Analysis, out: &mut Vec<Update>) -> StageResult<()> {
        let verdict = self.process_analysis(analysis);
        out.push(Update::Verify(analysis.stamp(), verdict));
        Ok(())
    }

    fn source_event(
        &mut self,
        event: &SourceEvent,
        stamp: Stamp,
        out: &mut Vec<Update>,
    ) -> StageResult<()> {
        // A lost source locks at once; nothing to do when it returns.
        if let SourceEvent::Lost { reason, .. } = event {
            out.push(Update::Verify(
                stamp,
                self.source_lost(stamp.media_time, reason),
            ));
        }
        Ok(())
    }
}

impl Consumer<Update> for EmotionStage {
    fn name(&self) -> &'static str {
        EmotionStage::NAME
    }

    fn wants(&mut self, analysis: &Analysis) -> bool {
        EmotionStage::wants(self, analysis)
    }

    fn process(&mut self, analysis: &Analysis, out: &mut Vec<Update>) -> StageResult<()> {
        let (report, alerts) = self.process_frame(analysis)?;
        let stamp = analysis.stamp();
        out.push(Update::Emotion(stamp, report));
        out.extend(alerts.into_iter().map(|a| Update::Alert(stamp, a)));
        Ok(())
    }
}

impl Consumer<Update> for SceneStage {
    fn name(&self) -> &'static str {
        SceneStage::NAME
    }

    fn wants(&mut self, analysis: &Analysis) -> bool {
        SceneStage::wants(self, analysis)
    }

    fn process(&mut self, analysis: &Analysis, out: &mut Vec<Update>) -> StageResult<()> {
        let verdict = SceneStage::process(self, analysis)?;
        out.push(Update::Scene(analysis.stamp(), verdict));
        Ok(())
    }
}

impl Consumer<Update> for AttentionStage {
    fn name(&self) -> &'static str {
        AttentionStage::NAME
    }

    fn wants(&mut self, analysis: &Analysis) -> bool {
        AttentionStage::wants(self, analysis)
    }

    fn process(&mut self, analysis: &Analysis, out: &mut Vec<Update>) -> StageResult<()> {
        let (report, alerts) = self.process_frame(analysis)?;
        let stamp = analysis.stamp();
        out.push(Update::Attention(stamp, report));
        out.extend(alerts.into_iter().map(|a| Update::AttentionAlert(stamp, a)));
        Ok(())
    }
}
