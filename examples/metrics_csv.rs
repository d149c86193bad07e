//! ROC AUC and McClish pAUC of a scores file, as scikit-learn computes them.
//!
//! ```text
//! cargo run --release --example metrics_csv -- SCORES.csv [--max-fpr 0.1]
//! ```
//! SCORES.csv has a header with `label` (1 = anomaly, 0 = normal) and `score` (higher =
//! more anomalous). Prints `auc <value>` and `pauc <value>` (17 significant digits). Bad
//! input: a one-line error on stderr and exit status 2.
use aad::metrics::io::{format_g17, read_scores_csv};

fn main() {
    match run() {
        Ok((auc, pauc)) => {
            println!("auc {}", format_g17(auc));
            println!("pauc {}", format_g17(pauc));
        }
        Err(e) => {
            eprintln!("error: {}", e.to_string().replace('\n', " "));
            std::process::exit(2);
        }
    }
}

fn run() -> anyhow::Result<(f64, f64)> {
    let mut path = None;
    let mut max_fpr = 0.1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--max-fpr" => {
                let v = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--max-fpr needs a value"))?;
                max_fpr = v
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--max-fpr: not a number: {v:?}"))?;
            }
            s if s.starts_with("--max-fpr=") => {
                let v = &s["--max-fpr=".len()..];
                max_fpr = v
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--max-fpr: not a number: {v:?}"))?;
            }
            s if s.starts_with('-') && s.len() > 1 => anyhow::bail!("unknown option {s}"),
            s if path.is_none() => path = Some(s.to_string()),
            s => anyhow::bail!("unexpected argument {s:?}"),
        }
    }
    let path =
        path.ok_or_else(|| anyhow::anyhow!("usage: metrics_csv SCORES.csv [--max-fpr 0.1]"))?;
    let (scores, labels) = read_scores_csv(&path)?;
    let auc = aad::metrics::roc_auc(&scores, &labels)?;
    let pauc = aad::metrics::partial_auc(&scores, &labels, max_fpr)?;
    Ok((auc, pauc))
}
