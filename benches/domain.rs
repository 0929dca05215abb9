//! Micro-benchmarks of the pure hot paths: signature verification, event decoding, scam extraction,
//! message splitting and prompt assembly. Run with `cargo bench --bench domain`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tradesphere::domain::HistoryTurn;
use tradesphere::llm::prompt::{Facts, PromptInput, build_messages};
use tradesphere::reply::split::split_message;
use tradesphere::scam::extract::extract;
use tradesphere::zalo::{events, signature};

const PASTED: &str = "chị ơi chuyển khoản vào STK 1903 6688 8888 Techcombank, gọi 0912.345.678 hoặc vào \
vietcombank-xacminh[.]com để xác minh, phí 500.000đ, hạn chót 12/05/2025 lúc 10:30, mã OTP 123456 đừng gửi ai";

fn bench(c: &mut Criterion) {
    let body = events::user_text_event(
        "360846524940903967",
        "552177279717587730",
        "1",
        "msg-1",
        PASTED,
        1_700_000_000_000,
    );
    let mac = signature::header_value(
        "360846524940903967",
        body.as_bytes(),
        "1700000000000",
        "secret",
    );

    let mut group = c.benchmark_group("webhook");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("verify_signature", |b| {
        b.iter(|| {
            signature::verify(
                Some(&mac),
                "360846524940903967",
                black_box(body.as_bytes()),
                Some("1700000000000"),
                "secret",
            )
        })
    });
    group.bench_function("parse_and_decode", |b| {
        b.iter(|| events::decode(&events::parse_json(black_box(body.as_bytes())).unwrap()))
    });
    group.finish();

    let mut group = c.benchmark_group("scam");
    group.throughput(Throughput::Bytes(PASTED.len() as u64));
    group.bench_function("extract_pasted_message", |b| {
        b.iter(|| extract(black_box(PASTED)))
    });
    group.finish();

    let long = "Đây là một câu trả lời dài để kiểm tra việc chia tin nhắn theo ranh giới câu. "
        .repeat(100);
    let mut group = c.benchmark_group("reply");
    group.throughput(Throughput::Bytes(long.len() as u64));
    group.bench_function("split_8k_chars", |b| {
        b.iter(|| split_message(black_box(&long), 2000))
    });
    group.finish();

    let history: Vec<HistoryTurn> = (0..10)
        .map(|i| HistoryTurn {
            from_user: i % 2 == 0,
            content: format!("tin nhắn số {i} trong lịch sử"),
        })
        .collect();
    let messages = vec![PASTED.to_string()];
    let facts = Facts::default();
    c.bench_function("prompt/build_10_turns", |b| {
        b.iter(|| {
            build_messages(black_box(&PromptInput {
                system_prompt: "Bạn là trợ lý chống lừa đảo.",
                history: &history,
                user_messages: &messages,
                facts: &facts,
                history_token_budget: 1500,
            }))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
