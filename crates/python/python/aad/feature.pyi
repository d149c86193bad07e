import numpy as np
import numpy.typing as npt

_F32 = npt.NDArray[np.float32]

def melspectrogram(*, y: _F32 | None = None, sr: int = 22050, S: None = None,
                   n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None,
                   window: str = "hann", center: bool = True, pad_mode: str = "constant",
                   power: float = 2.0, n_mels: int = 128, fmin: float = 0.0,
                   fmax: float | None = None, htk: bool = False,
                   norm: str | None = "slaney", dtype: npt.DTypeLike = np.float32) -> _F32: ...
def mfcc(*, y: _F32 | None = None, sr: int = 22050, S: None = None, n_mfcc: int = 20,
         dct_type: int = 2, norm: str = "ortho", lifter: float = 0, n_fft: int = 2048,
         hop_length: int = 512, win_length: int | None = None, window: str = "hann",
         center: bool = True, pad_mode: str = "constant", power: float = 2.0,
         n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
         htk: bool = False) -> _F32: ...
def chroma_stft(*, y: _F32 | None = None, sr: int = 22050, S: None = None,
                norm: float | None = ..., n_fft: int = 2048, hop_length: int = 512,
                win_length: int | None = None, window: str = "hann", center: bool = True,
                pad_mode: str = "constant", tuning: float | None = None, n_chroma: int = 12,
                ctroct: float = 5.0, octwidth: float | None = 2) -> _F32: ...
def chroma_cqt(*, y: _F32 | None = None, sr: int = 22050, C: None = None,
               hop_length: int = 512, fmin: float | None = None, norm: float | None = ...,
               threshold: float = 0.0, tuning: float | None = None, n_chroma: int = 12,
               n_octaves: int = 7, window: None = None, bins_per_octave: int = 36,
               cqt_mode: str = "full") -> _F32: ...
def chroma_cens(*, y: _F32 | None = None, sr: int = 22050, C: None = None,
                hop_length: int = 512, fmin: float | None = None, tuning: float | None = None,
                n_chroma: int = 12, n_octaves: int = 7, bins_per_octave: int = 36,
                cqt_mode: str = "full", window: None = None, norm: float | None = 2,
                win_len_smooth: int | None = 41, smoothing_window: str = "hann") -> _F32: ...
