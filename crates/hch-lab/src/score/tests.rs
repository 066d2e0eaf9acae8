//! Lines as JMH 1.3x and the demo print them.

use super::*;

fn auto(line: &str) -> Option<Sample> {
    parse_line(&ScoreSpec::Auto, line)
}

/// The sample expected: `unit` empty for none.
fn sample(value: f64, unit: &str, higher_is_better: bool) -> Option<Sample> {
    Some(Sample {
        value,
        unit: (!unit.is_empty()).then(|| unit.to_string()),
        higher_is_better,
    })
}

/// A throughput run, fork 1, with its warm-up, measurement and the summary that follows.
const THROUGHPUT: &str = "\
# JMH version: 1.37
# Benchmark mode: Throughput, ops/time
# Benchmark: org.sample.MyBenchmark.testMethod

# Run progress: 0.00% complete, ETA 00:08:20
# Fork: 1 of 5
# Warmup Iteration   1: 3294123456.789 ops/s
# Warmup Iteration   2: 3311212121.212 ops/s
Iteration   1: 3318596573.466 ops/s
Iteration   2: 3,320,112,233.445 ops/s
Iteration  10: 3299001122.001 ops/s

Result \"org.sample.MyBenchmark.testMethod\":
  3318596573.466 ±(99.9%) 45396913.380 ops/s [Average]
  (min, avg, max) = (3212345678.901, 3318596573.466, 3390123456.789), stdev = 60602811.112
  CI (99.9%): [3273199660.086, 3363993486.846] (assumes normal distribution)

# Run complete. Total time: 00:08:22

Benchmark                Mode  Cnt           Score          Error  Units
MyBenchmark.testMethod  thrpt   25  3318596573.466 ± 45396913.380  ops/s
";

#[test]
fn jmh_throughput_counts_measurement_iterations_only() {
    let samples: Vec<_> = THROUGHPUT
        .lines()
        .map(auto)
        .filter(Option::is_some)
        .collect();
    assert_eq!(
        samples,
        [
            sample(3318596573.466, "ops/s", true),
            sample(3320112233.445, "ops/s", true),
            sample(3299001122.001, "ops/s", true),
        ]
    );
}

#[test]
fn jmh_times_are_lower_is_better() {
    assert_eq!(
        auto("Iteration   1: 2.345 ns/op"),
        sample(2.345, "ns/op", false)
    );
    assert_eq!(
        auto("Iteration   3: 12.001 ms/op"),
        sample(12.001, "ms/op", false)
    );
    assert_eq!(
        auto("Iteration   2: 10.234 ±(99.9%) 0.118 us/op"),
        sample(10.234, "us/op", false)
    );
    assert_eq!(
        auto("Iteration   4: 1234,567 ops/ms"),
        sample(1234.567, "ops/ms", true)
    );
    assert_eq!(
        auto("Iteration   5: 0.5 ops/us"),
        sample(0.5, "ops/us", true)
    );
    assert_eq!(auto("Iteration   6: 4.0 s/op"), sample(4.0, "s/op", false));
}

#[test]
fn jmh_sample_mode_takes_the_mean() {
    let line = "Iteration   1: n = 2617131, mean = 19 ns/op, \
                p{0.00, 0.50, 0.90, 0.95, 0.99, 0.999, 0.9999, 1.00} = 16, 18, 19, 19, 37, 42, 1024, 48000 ns/op";
    assert_eq!(auto(line), sample(19.0, "ns/op", false));
}

#[test]
fn jmh_lines_that_are_not_samples() {
    for line in [
        "# Warmup Iteration   1: 3294123456.789 ops/s",
        "Iteration   1: ≈ 10⁻⁴ s/op",
        "Iteration   1: NaN ops/s",
        "Iteration   1: 12.5 MB/sec",
        "Result \"org.sample.MyBenchmark.testMethod\":",
        "  3318596573.466 ±(99.9%) 45396913.380 ops/s [Average]",
        "                 ·gc.alloc.rate:      1234.567 MB/sec",
        "MyBenchmark.testMethod  thrpt   25  3318596573.466 ± 45396913.380  ops/s",
        "Iteration   1: ",
    ] {
        assert_eq!(auto(line), None, "{line}");
    }
}

#[test]
fn score_lines() {
    assert_eq!(
        auto("score 254.31 Mcalls/s"),
        sample(254.31, "Mcalls/s", true)
    );
    assert_eq!(auto("  Score: 12"), sample(12.0, "", true));
    assert_eq!(auto("score 1,234.5 req/s"), sample(1234.5, "req/s", true));
    assert_eq!(auto("scores 1"), None);
    assert_eq!(auto("score fast"), None);
    assert_eq!(auto("sink 12345"), None);
}

#[test]
fn numbers_with_commas() {
    assert_eq!(number("12,345"), Some(12345.0));
    assert_eq!(number("-1,234,567.5"), Some(-1234567.5));
    assert_eq!(number("1234,5"), Some(1234.5));
    assert_eq!(number("1,23,4"), None);
    assert_eq!(number("inf"), None);
}

#[test]
fn regex_first_group() {
    let spec = ScoreSpec::regex(r"took (\S+) ms", true).unwrap();
    let s = parse_line(&spec, "request batch took 1,250.5 ms").unwrap();
    assert_eq!((s.value, s.unit, s.higher_is_better), (1250.5, None, false));
    assert_eq!(parse_line(&spec, "took many ms"), None);
    assert_eq!(parse_line(&spec, "nothing here"), None);
    assert!(matches!(
        ScoreSpec::regex("took ms", false),
        Err(ScoreError::NoGroup { .. })
    ));
    assert!(matches!(
        ScoreSpec::regex("took (", false),
        Err(ScoreError::Regex { .. })
    ));
}
