//! Log access: pages, tail, grep with context, and live events.

use futures_util::StreamExt;
use qide_api as api;
use qide_client::LogQuery;

use crate::harness::{spawn_app, step};

#[tokio::test]
async fn pages_tail_and_grep_read_the_right_lines() {
    let app = spawn_app().await;
    // Line 1 is QIDE's note, lines 2..=1001 are 1..=1000, then a note.
    let build = app.run(vec![step("count", "seq 1 1000")]).await;
    let id = build.id;
    assert_eq!(build.log_line_count, 1002);

    let page = app
        .client
        .log(
            id,
            &LogQuery {
                from: Some(12),
                limit: Some(9),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let got: Vec<(i64, &str)> = page.lines.iter().map(|l| (l.n, l.text.as_str())).collect();
    assert_eq!(
        got,
        (12..=20)
            .map(|n| (n, format!("{}", n - 1)))
            .collect::<Vec<_>>()
            .iter()
            .map(|(n, s)| (*n, s.as_str()))
            .collect::<Vec<_>>()
    );
    assert!(page.truncated);
    assert_eq!(page.next_from, Some(21));
    assert_eq!(page.total_lines, 1002);
    assert!(
        page.lines
            .iter()
            .all(|l| l.step == "count" && l.stream == "stdout")
    );

    let tail = app
        .client
        .log(
            id,
            &LogQuery {
                tail: Some(3),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let texts: Vec<&str> = tail.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(&texts[..2], ["999", "1000"]);
    assert_eq!(tail.lines[2].stream, "system");

    let grep = LogQuery {
        grep: Some("^50$|^700$".to_owned()),
        context: Some(1),
        ..Default::default()
    };
    let found = app.client.log(id, &grep).await.unwrap();
    let texts: Vec<&str> = found.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["49", "50", "51", "699", "700", "701"]);
    assert!(!found.truncated);

    let limited = LogQuery {
        grep: Some("^1".to_owned()),
        limit: Some(5),
        ..Default::default()
    };
    let found = app.client.log(id, &limited).await.unwrap();
    let texts: Vec<&str> = found.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["1", "10", "11", "12", "13"]);
    assert!(found.truncated);
    // Continuing from next_from finds the next matches.
    let more = LogQuery {
        from: found.next_from,
        ..limited
    };
    let texts: Vec<String> = app
        .client
        .log(id, &more)
        .await
        .unwrap()
        .lines
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert_eq!(texts[0], "14");
}

#[tokio::test]
async fn events_stream_every_line_in_order_then_done() {
    let app = spawn_app().await;
    let id = app
        .start(vec![
            step(
                "ticks",
                "for i in $(seq 1 30); do echo tick $i; sleep 0.02; done",
            ),
            step("after", "echo last"),
        ])
        .await;
    let mut events = Box::pin(app.client.events(id, None).await.unwrap());
    let mut lines = Vec::new();
    let mut saw_status = false;
    let mut done = None;
    while let Some(event) = events.next().await {
        match event.unwrap() {
            api::BuildEvent::Status { .. } => saw_status = true,
            api::BuildEvent::Log { lines: more } => lines.extend(more),
            api::BuildEvent::Done { build } => {
                done = Some(build);
                break;
            }
        }
    }
    assert!(saw_status);
    let build = done.expect("done event");
    assert_eq!(build.status, api::BuildStatus::Success);
    let numbers: Vec<i64> = lines.iter().map(|l| l.n).collect();
    assert_eq!(
        numbers,
        (1..=build.log_line_count).collect::<Vec<_>>(),
        "every line once, in order"
    );
    let ticks: Vec<&str> = lines
        .iter()
        .filter(|l| l.stream == "stdout")
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(ticks.len(), 31);
    assert_eq!(ticks[30], "last");
    assert_eq!(
        lines.iter().find(|l| l.text == "last").unwrap().step,
        "after"
    );

    // A finished build replays its log and ends.
    let mut replay = Box::pin(app.client.events(id, Some(5)).await.unwrap());
    let mut first = None;
    while let Some(event) = replay.next().await {
        if let api::BuildEvent::Log { lines } = event.unwrap() {
            first.get_or_insert(lines[0].n);
        }
    }
    assert_eq!(first, Some(5));
}
