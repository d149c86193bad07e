//! Loading arbitrary bytes as a detector file never panics; whatever loads can score.
#![no_main]

use aad_core::Detector;
use aad_models::AnyDetector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((det, _)) = AnyDetector::from_bytes(std::path::Path::new("f.aadm"), data) {
        let w = det.input_dims().min(4096);
        let clip = ndarray::Array2::<f32>::from_elem((8, w), 0.5);
        let _ = det.score(clip.view());
    }
});
