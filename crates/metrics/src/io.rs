//! Reading score files and printing numbers the way the reference tools print them.

use std::path::Path;

use aad_core::Label;

/// Why a scores CSV could not be read. Messages name the file and, for rows, the line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScoresCsvError {
    /// The file cannot be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The CSV reader's error.
        #[source]
        source: csv::Error,
    },
    /// The header lacks a needed column.
    #[error("{path}: header has no `{column}` column (found: {found})")]
    MissingColumn {
        /// The file.
        path: String,
        /// The column.
        column: &'static str,
        /// The columns present.
        found: String,
    },
    /// A row holds an unreadable value.
    #[error("{path}: line {line}: {reason}")]
    BadRow {
        /// The file.
        path: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The file has a header but no rows.
    #[error("{path}: no rows")]
    Empty {
        /// The file.
        path: String,
    },
}

/// Reads a CSV whose header contains `label` (1 = anomaly, 0 = normal; `1.0`, `normal`,
/// `anomaly` are accepted too) and `score` (higher = more anomalous). Other columns are
/// ignored. Scores must be finite numbers: `nan` or `inf` is an error naming its line
/// (the metrics would reject it anyway, without the line).
///
/// # Errors
/// [`ScoresCsvError`] naming the file and the line.
pub fn read_scores_csv(path: impl AsRef<Path>) -> Result<(Vec<f64>, Vec<Label>), ScoresCsvError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let io = |source| ScoresCsvError::Io {
        path: name.clone(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(io)?;
    let headers = reader.headers().map_err(io)?.clone();
    let col = |column: &'static str| {
        headers
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| ScoresCsvError::MissingColumn {
                path: name.clone(),
                column,
                found: headers.iter().collect::<Vec<_>>().join(","),
            })
    };
    let (li, si) = (col("label")?, col("score")?);
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    for row in reader.records() {
        let row = row.map_err(io)?;
        let line = row.position().map_or(0, |p| p.line());
        let bad = |reason: String| ScoresCsvError::BadRow {
            path: name.clone(),
            line,
            reason,
        };
        let label_text = row.get(li).unwrap_or("");
        let label = match label_text.parse::<f64>() {
            Ok(1.0) => Label::Anomalous,
            Ok(0.0) => Label::Normal,
            Ok(v) => return Err(bad(format!("label must be 0 or 1, got {v}"))),
            Err(_) => label_text
                .parse::<Label>()
                .map_err(|_| bad(format!("label must be 0 or 1, got {label_text:?}")))?,
        };
        let score_text = row.get(si).unwrap_or("");
        let score = score_text
            .parse::<f64>()
            .map_err(|_| bad(format!("score is not a number: {score_text:?}")))?;
        if !score.is_finite() {
            return Err(bad(format!("score is not finite ({score})")));
        }
        labels.push(label);
        scores.push(score);
    }
    if scores.is_empty() {
        return Err(ScoresCsvError::Empty { path: name });
    }
    Ok((scores, labels))
}

/// Formats `x` exactly as C's (and Python's) `%.17g`: 17 significant digits, enough to
/// round-trip any `f64`; fixed notation for exponents in [-5, 17), scientific otherwise;
/// trailing zeros removed.
///
/// ```
/// use aad_metrics::io::format_g17;
/// assert_eq!(format_g17(0.8333333333333334), "0.83333333333333337");
/// assert_eq!(format_g17(0.75), "0.75");
/// assert_eq!(format_g17(1.0), "1");
/// assert_eq!(format_g17(1e-7), "9.9999999999999995e-08");
/// assert_eq!(format_g17(0.1).parse::<f64>().unwrap(), 0.1);
/// ```
pub fn format_g17(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let strip = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    let sci = format!("{x:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-5..17).contains(&exp) {
        let decimals = (16 - exp).max(0) as usize;
        strip(format!("{x:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip(mantissa.to_string()), exp.abs())
    }
}
