// Runtime feature detection: the AVX2 kernel runs only where the CPU has
// AVX2, a plain one elsewhere.
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel_avx2(a: &[f32], b: &[f32]) -> f32 {
    let mut s = 0f32;
    for i in 0..a.len() {
        s = a[i].mul_add(b[i], s);
    }
    s
}

fn kernel(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn main() {
    let a: Vec<f32> = (0..4096).map(|i| i as f32).collect();
    let b: Vec<f32> = (0..4096).map(|i| 1.0 / (1.0 + i as f32)).collect();
    let s = if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        unsafe { kernel_avx2(&a, &b) }
    } else {
        kernel(&a, &b)
    };
    println!("{:.2}", s);
}
