//! Plumbing shared by specmine's own kernels for burn's `flex` backend ([`crate::flexconv`],
//! [`crate::flexnorm`]): recognising tensors that live on flex as f32 (tracked by autodiff
//! without gradient checkpointing, or not tracked) behind burn 0.22's dispatch layer, and
//! wrapping results back. Anything else is left to burn's own operations.

use burn::tensor::{DispatchTensor, TensorData};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::{Autodiff, NodeId};
use burn_dispatch::{
    BackendTensor, DispatchAutodiffContext, DispatchTensorKind, GradientCheckpointingStrategy,
};
use burn_flex::{Flex, FlexTensor};

/// The tensor primitive of `Autodiff<Flex>` (burn-autodiff keeps the type's own path private).
pub(crate) type AutodiffTensor<B> = burn_backend::tensor::FloatTensor<Autodiff<B>>;

/// The inputs of one operation, all f32 on flex.
pub(crate) enum FlexInputs {
    /// No input is tracked by autodiff.
    Plain(Vec<FlexTensor>),
    /// At least one is (the others become constants), without gradient checkpointing.
    Tracked(Vec<AutodiffTensor<Flex>>),
}

enum One {
    Plain(FlexTensor),
    Tracked(AutodiffTensor<Flex>),
}

fn one(t: DispatchTensor) -> Option<One> {
    let input = match t.kind {
        DispatchTensorKind::Flex(BackendTensor::Float(f)) => One::Plain(f),
        DispatchTensorKind::Autodiff(inner) => match *inner {
            DispatchTensorKind::Flex(BackendTensor::Autodiff(a)) => One::Tracked(a),
            _ => return None,
        },
        _ => return None,
    };
    let data = match &input {
        One::Plain(f) => f,
        One::Tracked(a) => a.primitive(),
    };
    (data.dtype() == burn::tensor::DType::F32).then_some(input)
}

impl FlexInputs {
    /// Sort the inputs of one operation, or `None` when any is not an f32 flex tensor or the
    /// operation would run under gradient checkpointing.
    pub(crate) fn of(inputs: Vec<DispatchTensor>) -> Option<Self> {
        let context = inputs
            .iter()
            .fold(DispatchAutodiffContext::Disabled, |c, t| {
                c.merge(t.autodiff)
            });
        let ones = inputs.into_iter().map(one).collect::<Option<Vec<_>>>()?;
        match context {
            DispatchAutodiffContext::Disabled => ones
                .into_iter()
                .map(|o| match o {
                    One::Plain(f) => Some(f),
                    One::Tracked(_) => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(Self::Plain),
            DispatchAutodiffContext::Enabled(GradientCheckpointingStrategy::Disabled) => {
                Some(Self::Tracked(
                    ones.into_iter()
                        .map(|o| match o {
                            // An untracked input of a tracked operation is a constant.
                            One::Plain(f) => AutodiffTensor::new(f),
                            One::Tracked(a) => a,
                        })
                        .collect(),
                ))
            }
            DispatchAutodiffContext::Enabled(_) => None,
        }
    }

    /// The dispatch tensor of an untracked result.
    pub(crate) fn plain_output(t: FlexTensor) -> DispatchTensor {
        DispatchTensor {
            kind: DispatchTensorKind::Flex(BackendTensor::Float(t)),
            autodiff: DispatchAutodiffContext::Disabled,
        }
    }

    /// The dispatch tensor of a tracked result.
    pub(crate) fn tracked_output(t: AutodiffTensor<Flex>) -> DispatchTensor {
        DispatchTensor {
            kind: DispatchTensorKind::Autodiff(Box::new(DispatchTensorKind::Flex(
                BackendTensor::Autodiff(t),
            ))),
            autodiff: DispatchAutodiffContext::Enabled(GradientCheckpointingStrategy::Disabled),
        }
    }
}

/// The f32 data of a contiguous flex tensor (the kernels' inputs are made contiguous first).
pub(crate) fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>()
        .expect("inputs are made contiguous f32 before the kernels run")
}

/// A flex tensor of kernel output.
pub(crate) fn flex<S: Into<burn::tensor::Shape>>(data: Vec<f32>, shape: S) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape))
}

/// An untracked zero-size stand-in for an absent parent of a tracked operation (a bias-less
/// convolution's bias, a batch norm's skip when there is none).
pub(crate) fn absent() -> AutodiffTensor<Flex> {
    AutodiffTensor::new(FlexTensor::zeros(
        burn::tensor::Shape::from([0]),
        burn::tensor::DType::F32,
    ))
}

/// A checkpointed forward input, contiguous, for a backward kernel.
pub(crate) fn retrieve(checkpointer: &mut Checkpointer, id: NodeId) -> FlexTensor {
    checkpointer
        .retrieve_node_output::<FlexTensor>(id)
        .to_contiguous()
}
