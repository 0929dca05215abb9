//! Reading the Prometheus text exposition the service serves on `/metrics`.

/// The `/metrics` text of the service at `address` (`http://…`).
pub async fn scrape(address: &str) -> String {
    reqwest::get(format!("{address}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("the /metrics text")
}

/// The value of the unlabelled metric `name` (0 when absent).
pub fn value(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The sum of metric `name` over all its label sets (0 when absent).
pub fn sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[cfg(test)]
mod tests {
    const TEXT: &str = "# TYPE a_total counter\na_total 3\na_total_x 9\nb_total{actor=\"llm\"} 2\nb_total{actor=\"scam\"} 5\n";

    #[test]
    fn value_reads_an_unlabelled_metric_and_sum_adds_label_sets() {
        assert_eq!(super::value(TEXT, "a_total"), 3.0);
        assert_eq!(super::value(TEXT, "b_total"), 0.0);
        assert_eq!(super::value(TEXT, "missing"), 0.0);
        assert_eq!(super::sum(TEXT, "b_total"), 7.0);
        assert_eq!(super::sum(TEXT, "a_total"), 3.0);
    }
}
