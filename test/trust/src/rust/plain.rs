// A float kernel the compiler vectorises for whatever target-cpu it is
// given: with -C target-cpu=haswell it runs AVX2/FMA instructions.
fn main() {
    let n = 1 << 16;
    let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let b: Vec<f32> = (0..n).map(|i| (n - i) as f32 * 0.25).collect();
    let mut acc = vec![0f32; n];
    for _ in 0..20 {
        for i in 0..n {
            acc[i] = acc[i].mul_add(0.5, a[i] * b[i]);
        }
    }
    let s: f64 = acc.iter().map(|&x| x as f64).sum();
    let mut v: Vec<u64> = (0..10000u64).map(|i| i.wrapping_mul(2654435761) % 1000).collect();
    v.sort();
    println!("{:.3} {}", s, v[5000]);
}
