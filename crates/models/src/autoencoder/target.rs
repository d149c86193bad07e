//! What the network predicts from what: its whole input (an autoencoder), or the centre
//! frame of a stack from the frames around it (an interpolation network, IDNN).

use ndarray::{Array2, ArrayView2, s};
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// What the network is trained to output for a vector of stacked frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum AeTarget {
    /// The input itself: an autoencoder (the baselines).
    #[default]
    Reconstruct,
    /// The centre frame of `frames` stacked frames, from the other `frames - 1` (the
    /// interpolation deep neural network, IDNN, of Suefusa et al., ICASSP 2020). The
    /// centre frame is never an input, so the network cannot copy it: a transient click
    /// or a changed tone in the middle of a window is an error even when the network
    /// reconstructs the edges well. `frames` is odd and at least 3.
    Interpolate {
        /// Frames stacked in one vector.
        frames: usize,
    },
}

impl AeTarget {
    /// Checks the parameters against a vector width (`None`: not known yet).
    pub(crate) fn validate(self, width: Option<usize>) -> Result<(), ModelError> {
        let AeTarget::Interpolate { frames } = self else {
            return Ok(());
        };
        if frames < 3 || frames % 2 == 0 {
            return Err(ModelError::config(
                "interpolation frames",
                frames,
                "must be odd and >= 3 (a centre frame with context on both sides)",
            ));
        }
        if let Some(w) = width
            && w % frames != 0
        {
            return Err(ModelError::config(
                "input width",
                w,
                format!(
                    "an interpolation network over {frames} frames needs a multiple of {frames}"
                ),
            ));
        }
        Ok(())
    }

    /// Network input and output widths for vectors of `width` values.
    pub(crate) fn io_widths(self, width: usize) -> (usize, usize) {
        match self {
            AeTarget::Reconstruct => (width, width),
            AeTarget::Interpolate { frames } => {
                let per = width / frames;
                (per * (frames - 1), per)
            }
        }
    }

    /// The stacked width whose network has `n_in` inputs.
    pub(crate) fn vector_width(self, n_in: usize) -> usize {
        match self {
            AeTarget::Reconstruct => n_in,
            AeTarget::Interpolate { frames } => n_in / (frames - 1) * frames,
        }
    }

    /// Splits vectors into the network's inputs and targets (`None`: the inputs are the
    /// targets).
    pub(crate) fn split(self, x: Array2<f32>) -> Pairs {
        let AeTarget::Interpolate { frames } = self else {
            return Pairs { x, y: None };
        };
        let per = x.ncols() / frames;
        let c = frames / 2;
        let (n, (w_in, _)) = (x.nrows(), self.io_widths(x.ncols()));
        let mut input = Array2::<f32>::zeros((n, w_in));
        input
            .slice_mut(s![.., ..c * per])
            .assign(&x.slice(s![.., ..c * per]));
        input
            .slice_mut(s![.., c * per..])
            .assign(&x.slice(s![.., (c + 1) * per..]));
        let y = x.slice(s![.., c * per..(c + 1) * per]).to_owned();
        Pairs {
            x: input,
            y: Some(y),
        }
    }
}

/// Network inputs and, when they differ from the inputs, targets (row `i` of each belongs
/// to the same vector).
#[derive(Debug, Clone)]
pub(crate) struct Pairs {
    pub x: Array2<f32>,
    pub y: Option<Array2<f32>>,
}

impl Pairs {
    /// What the network should output.
    pub(crate) fn target(&self) -> ArrayView2<'_, f32> {
        self.y.as_ref().unwrap_or(&self.x).view()
    }

    /// Vectors.
    pub(crate) fn rows(&self) -> usize {
        self.x.nrows()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_takes_the_centre_frame_out_of_the_input() {
        // 2 vectors of 5 frames x 2 values; value = 10 * frame + position.
        let x = Array2::from_shape_fn((2, 10), |(r, c)| (100 * r + 10 * (c / 2) + c % 2) as f32);
        let t = AeTarget::Interpolate { frames: 5 };
        assert_eq!(t.io_widths(10), (8, 2));
        assert_eq!(t.vector_width(8), 10);
        let p = t.split(x.clone());
        assert_eq!(
            p.x.row(1).to_vec(),
            [100., 101., 110., 111., 130., 131., 140., 141.]
        );
        assert_eq!(p.target().row(1).to_vec(), [120., 121.]);
        let same = AeTarget::Reconstruct.split(x.clone());
        assert_eq!(same.target(), x.view());
        assert!(AeTarget::Interpolate { frames: 4 }.validate(None).is_err());
        assert!(AeTarget::Interpolate { frames: 1 }.validate(None).is_err());
        assert!(t.validate(Some(12)).is_err());
        assert!(t.validate(Some(320)).is_ok());
    }
}
