//! Hand-computed cases for [`concentration`].

use super::*;

fn close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "{what}: got {actual}, expected {expected}"
    );
}

#[test]
fn uniform_buckets() {
    for n in [1usize, 2, 3, 4, 7, 10, 12] {
        let c = concentration(&vec![5.0; n]);
        assert_eq!(c.buckets, n);
        close(c.total, 5.0 * n as f64, "total");
        close(c.hhi, 10_000.0 / n as f64, "hhi");
        assert_eq!(c.k50, n.div_ceil(2), "k50 of {n}");
        assert_eq!(c.k75, (3 * n).div_ceil(4), "k75 of {n}");
        close(c.entropy, (n as f64).ln(), "entropy");
        close(c.effective, n as f64, "effective");
        close(c.gini, 0.0, "gini");
        close(c.top1, 1.0 / n as f64, "top1");
        close(c.top3, 3.0_f64.min(n as f64) / n as f64, "top3");
        close(c.top10, 10.0_f64.min(n as f64) / n as f64, "top10");
    }
    // Four equal buckets: 1/4 + 1/4 + 1/4 reaches 75 % exactly (the epsilon's job).
    assert_eq!(concentration(&[0.1, 0.1, 0.1, 0.1]).k75, 3);
}

#[test]
fn monopoly() {
    let c = concentration(&[412.0]);
    assert_eq!((c.buckets, c.k50, c.k75), (1, 1, 1));
    close(c.hhi, 10_000.0, "hhi");
    assert_eq!(c.band, Band::High);
    close(c.entropy, 0.0, "entropy");
    close(c.effective, 1.0, "effective");
    close(c.top1, 1.0, "top1");
    // Gini is inequality between the buckets present: one bucket has none.
    close(c.gini, 0.0, "gini");
    // Zero-weight entries are not buckets.
    assert_eq!(concentration(&[412.0, 0.0, 0.0]), c);
}

#[test]
fn gini_of_unequal_buckets() {
    // |1-3| over the 4 ordered pairs = 4; 2 n² mean = 2·4·2 = 16.
    close(concentration(&[1.0, 3.0]).gini, 0.25, "gini 1,3");
    // 1,2,3,4: Σ|xi−xj| = 2·(1+2+3+1+2+1) = 20; 2·16·2.5 = 80.
    close(concentration(&[4.0, 1.0, 3.0, 2.0]).gini, 0.25, "gini 1..4");
    // 1,1,1,97: Σ|xi−xj| = 2·3·96 = 576; 2 n² mean = 2·16·25 = 800.
    close(concentration(&[1.0, 1.0, 1.0, 97.0]).gini, 0.72, "gini 1,1,1,97");
}

/// The seed of the project: 150 contacts, two providers hold 53 %, six reach 75 %.
#[test]
fn seed_example() {
    let w = [
        45.0, 35.0, 10.0, 9.0, 7.0, 7.0, 5.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 2.0, 1.0, 1.0,
    ];
    let c = concentration(&w);
    close(c.total, 150.0, "total");
    assert_eq!(c.buckets, 18);
    close(c.top1, 45.0 / 150.0, "top1");
    close(c.top3, 90.0 / 150.0, "top3");
    close(c.top5, 106.0 / 150.0, "top5");
    close(c.top10, 130.0 / 150.0, "top10");
    assert_eq!(c.k50, 2, "45 + 35 = 80 of 150 = 53.3 %");
    assert_eq!(c.k75, 6, "five give 106 (70.7 %), six give 113 (75.3 %)");
    // Σ w² = 3660, HHI = 3660 · 10,000 / 150² = 14640 / 9 = 1626.7.
    close(c.hhi, 14_640.0 / 9.0, "hhi");
    assert_eq!(c.band, Band::Moderate);
    let h: f64 = -w.iter().map(|x| x / 150.0 * (x / 150.0).ln()).sum::<f64>();
    close(c.entropy, h, "entropy");
    close(c.effective, h.exp(), "effective");
    assert!((9.712..9.713).contains(&c.effective), "{}", c.effective);
}

#[test]
fn bands_at_their_boundaries() {
    assert_eq!(Band::of(0.0), Band::Unconcentrated);
    assert_eq!(Band::of(999.9), Band::Unconcentrated);
    assert_eq!(Band::of(1000.0), Band::Moderate);
    assert_eq!(Band::of(1800.0), Band::Moderate);
    assert_eq!(Band::of(1800.1), Band::High);
    assert_eq!(Band::of(10_000.0), Band::High);
    // Ten equal buckets: HHI 1000 exactly is moderate; eleven: 909.09 unconcentrated.
    assert_eq!(concentration(&[1.0; 10]).band, Band::Moderate);
    assert_eq!(concentration(&[1.0; 11]).band, Band::Unconcentrated);
}

#[test]
fn no_figure_is_a_negative_zero() {
    assert!(crate::metrics::sum([]).is_sign_positive());
    assert!(crate::metrics::sum([-0.0, -0.0]).is_sign_positive());
    let one = concentration(&[5.0]);
    assert_eq!((one.entropy, one.entropy.is_sign_positive()), (0.0, true));
    assert_eq!((one.gini, one.gini.is_sign_positive()), (0.0, true));
}

#[test]
fn empty_and_bad_input_are_well_defined() {
    let empty = concentration(&[]);
    assert_eq!(
        (empty.total, empty.buckets, empty.top1, empty.top10),
        (0.0, 0, 0.0, 0.0)
    );
    assert_eq!(
        (empty.k50, empty.k75, empty.hhi, empty.band),
        (0, 0, 0.0, Band::Unconcentrated)
    );
    assert_eq!((empty.entropy, empty.effective, empty.gini), (0.0, 0.0, 0.0));
    let expected = Concentration::EMPTY;
    assert_eq!(empty, expected);
    assert_eq!(concentration(&[0.0, -3.0, f64::NAN, f64::INFINITY]), expected);
    assert_eq!(concentration(&[f64::MAX, f64::MAX]), expected, "an overflowing total");
    let c = concentration(&[2.0, f64::NAN, 2.0]);
    assert_eq!(c.buckets, 2);
    close(c.hhi, 5000.0, "NaN ignored");
}
