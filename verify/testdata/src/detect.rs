// detect: Rust's run-time feature detection (std only): an AVX2 function
// called only when is_x86_feature_detected!("avx2") says so. Built for the
// default target it runs on any x86-64; built with -C target-cpu=haswell
// the compiler uses AVX2 everywhere and it needs x86-64-v3.
use std::env;

#[target_feature(enable = "avx2")]
unsafe fn sum_avx2(a: &[i32]) -> i64 {
    a.iter().map(|&x| (x as i64) * 3).sum()
}

fn sum_plain(a: &[i32]) -> i64 {
    a.iter().map(|&x| (x as i64) * 3).sum()
}

fn main() {
    let n: usize = env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let a: Vec<i32> = (0..n as i32).map(|i| (i * 7919) % 1000).collect();
    let s = if is_x86_feature_detected!("avx2") {
        unsafe { sum_avx2(&a) }
    } else {
        sum_plain(&a)
    };
    let mut v: Vec<f64> = a.iter().map(|&x| x as f64 * 1.5).collect();
    v.sort_by(|x, y| x.partial_cmp(y).unwrap());
    println!("{} {}", s, v[n / 2]);
}
