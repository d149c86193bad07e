//! Shared by the decoding fuzz targets.

/// libFuzzer's panic hook aborts on every panic, caught or not. `Decoder` catches the
/// panics of symphonia (an overflow in its FLAC predictor with debug assertions, some
/// malformed RIFF headers) and returns an error naming the file; a panic anywhere else is
/// still a crash.
pub fn caught() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_symphonia = info
                .location()
                .is_some_and(|l| l.file().contains("/symphonia"));
            if !in_symphonia {
                fuzzer_hook(info);
            }
        }));
    });
}
