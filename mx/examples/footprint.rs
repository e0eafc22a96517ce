//! Prints the resident bytes per idle socket pair (rough check).
fn rss() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    s.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<usize>()
        .unwrap()
        * 4096
}
fn main() {
    let n = 100_000;
    let mut v = Vec::with_capacity(n);
    let before = rss();
    let t = std::time::Instant::now();
    for _ in 0..n {
        v.push(mx::sys::socket_create(0).unwrap());
    }
    let el = t.elapsed();
    let after = rss();
    println!(
        "{} B/pair, {:?}/pair create",
        (after - before) / n,
        el / n as u32
    );
    let t = std::time::Instant::now();
    for (a, b) in v.drain(..) {
        mx::sys::handle_close(a).unwrap();
        mx::sys::handle_close(b).unwrap();
    }
    println!("{:?}/pair close", t.elapsed() / n as u32);
}
