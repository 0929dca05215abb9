//! Temporary: the engines compared on the generated set.

use std::collections::BTreeMap;
use std::time::Instant;

use testkit::images::qr::{QrSample, Variation, qr_set};
use tradesphere::media::qr::{Engine, ordered, read_with};

#[test]
fn compare_engines() {
    let seeds: Vec<u64> = std::env::var("QR_SEEDS").unwrap_or("22".into()).split(',').map(|s| s.parse().unwrap()).collect();
    let set: Vec<QrSample> = seeds.iter().flat_map(|&s| qr_set(s)).collect();
    for engine in Engine::ALL {
        let mut per: BTreeMap<Variation, (usize, usize)> = BTreeMap::new();
        let started = Instant::now();
        let mut misses = Vec::new();
        for s in &set {
            let got = ordered(read_with(engine, &s.image));
            let ok = got == s.payloads;
            let e = per.entry(s.variation).or_default();
            e.1 += 1;
            if ok {
                e.0 += 1;
            } else {
                misses.push(format!("{} ({}): got {:?}", s.variation.as_str(), s.detail, got.iter().map(|g| g.chars().take(30).collect::<String>()).collect::<Vec<_>>()));
            }
        }
        let total: usize = per.values().map(|v| v.0).sum();
        println!("== {} {}/{} in {:?}", engine.as_str(), total, set.len(), started.elapsed());
        for (v, (ok, n)) in &per {
            println!("   {:<20} {ok}/{n}", v.as_str());
        }
        if engine == Engine::Passes {
            let mut by_pass = [0usize; 4];
            for s in &set {
                by_pass[tradesphere::media::qr::passes(&s.image).1] += 1;
            }
            println!("   by pass {by_pass:?}");
        }
        for m in misses {
            println!("   miss {m}");
        }
    }
}

#[test]
fn dump() {
    let set = qr_set(22);
    for (i, s) in set.iter().enumerate() {
        if s.detail.contains("dark 80, light 140") || s.detail.contains("dark 140, light 210") {
            s.image.save(format!("/tmp/qr_{i}.png")).unwrap();
            tradesphere::media::qr::local_stretch(&s.image).save(format!("/tmp/qr_{i}_bin.png")).unwrap();
        }
    }
}
