//! 中文界面 (issue 18), through the binary: under `LANG=zh_CN.UTF-8` the refusals of each rule
//! family (D disk, H host, B bureau) are Chinese, with the real software's words where its FAQ
//! (seeds/000_c954ea0c38765a62.txt) quotes them, followed by the rule id in brackets; outputs
//! and tables are Chinese and line up; `--lang` overrides the locale; English stays the
//! default. One process per command on a fresh data folder, as the other CLI tests.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use std::path::Path;
use support::{Cli, INIT, ISSUE, LOGIN, PROVISION};

const ZH: &str = "zh_CN.UTF-8";

/// The test company, logged in, under the Chinese locale.
fn ready_zh(d: &Path) -> Cli {
    let cli = Cli::new(d).locale(ZH);
    cli.ok(INIT);
    cli.ok(PROVISION);
    cli.ok(LOGIN);
    cli
}

/// A normal draft of one line of 100.00 and a discount line of the whole 100.00 (FAQ 4.10).
fn full_discount_draft(cli: &Cli, dir: &Path) -> String {
    let template = cli.ok(&["issue", "--template", "normal"]);
    let mut d: serde_json::Value = serde_json::from_str(&template).unwrap();
    let mut goods = d["lines"][0].clone();
    goods["quantity"] = "1".into();
    goods["unit_price"] = "100".into();
    goods["amount"] = "100.00".into();
    goods["tax"] = "13.00".into();
    let mut discount = goods.clone();
    discount["kind"] = "Discount".into();
    discount["quantity"] = serde_json::Value::Null;
    discount["unit_price"] = serde_json::Value::Null;
    discount["amount"] = "-100.00".into();
    discount["tax"] = "-13.00".into();
    d["lines"] = serde_json::json!([goods, discount]);
    let path = dir.join("discount.json");
    std::fs::write(&path, d.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A command that must fail; the last line of its standard error (the error; the lines before
/// it say what the login did on its own).
fn last_error_line(cli: &Cli, args: &[&str]) -> String {
    let o = cli.run(args);
    assert!(!o.status.success(), "{args:?} should fail");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let last = stderr.lines().last().unwrap_or_default().to_owned();
    assert!(last.starts_with("错误："), "{stderr}");
    last
}

#[test]
fn d_family_refusals_are_chinese_with_the_faq_words() {
    let dir = tempfile::tempdir().unwrap();
    let cli = ready_zh(dir.path());
    // D4 (FAQ 4.8): no roll read in yet: 无发票信息，不能开票.
    let err = cli.refused(ISSUE);
    assert_eq!(
        err.trim(),
        "错误：第 1 张：金税盘拒绝发票开具：无发票信息，不能开票(D4)，错误码 0x0400"
    );
    let rolls = cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "10"]);
    assert!(rolls.starts_with("增值税普通发票 "), "{rolls}");
    cli.ok(&["rolls", "buy", "--kind", "electronic", "--count", "10"]);
    // FAQ 4.10: a 100 % discount makes the total zero: 非空白作废发票，合计金额不能为零.
    let draft = full_discount_draft(&cli, dir.path());
    let err = cli.refused(&["issue", "--file", &draft]);
    assert!(
        err.contains("第 2 行：非空白作废发票，合计金额不能为零(H7)"),
        "{err}"
    );
    // D7: an electronic invoice is reversed with red, never voided.
    let issued = cli.ok(&[
        "issue",
        "--kind",
        "electronic",
        "--buyer",
        "买家",
        "--item",
        "办公用品:1060301000000000000:13%:1:100",
    ]);
    assert!(issued.starts_with("已开具增值税电子普通发票 "), "{issued}");
    let id = issued
        .split("（编号 ")
        .nth(1)
        .unwrap()
        .split('，')
        .next()
        .unwrap();
    let err = cli.refused(&["void", "--id", id]);
    assert!(
        err.contains(&format!(
            "作废发票 {id}被拒绝：电子发票不能作废：请开具红字发票(D7)"
        )),
        "{err}"
    );
}

#[test]
fn h_family_refusals_are_chinese_with_the_faq_words() {
    let dir = tempfile::tempdir().unwrap();
    let cli = ready_zh(dir.path());
    // H2 (FAQ 2.2): 开票员和管理员的名字不能相同.
    let err = cli.refused(&["user", "add", "--name", "陈主管", "--password", "pw-12345"]);
    assert!(
        err.starts_with("错误：开票员和管理员的名字不能相同(H2)："),
        "{err}"
    );
    // H7 (FAQ 4.18): a letter in the quantity: 格式错误或超过允许的最大长度.
    let err = cli.refused(&[
        "issue",
        "--kind",
        "normal",
        "--buyer",
        "买家",
        "--item",
        "办公用品:1060301000000000000:13%:1x:100",
    ]);
    assert!(
        err.contains("格式错误或超过允许的最大长度(H7)：数量第 2 个字符 'x' 不允许"),
        "{err}"
    );
    assert!(err.contains("切换到半角或者默认选择英文状态"), "{err}");
    // H10 (FAQ 7.17): the original's code and number entered twice differ.
    let err = cli.refused(&[
        "red",
        "--code",
        "035022600004",
        "--number",
        "00000001",
        "--code-again",
        "035022600005",
        "--number-again",
        "00000001",
    ]);
    assert!(
        err.contains("红字发票被拒绝：两遍输入的发票代码和号码不一致(H10, FAQ 7.17)"),
        "{err}"
    );
    // H10 (FAQ 7.4): one info form gives one red invoice.
    cli.ok(&["rolls", "buy", "--kind", "special", "--count", "5"]);
    cli.ok(&[
        "issue",
        "--kind",
        "special",
        "--buyer",
        "买家公司",
        "--buyer-tin",
        "91350200MA2XY1234B",
        "--buyer-address",
        "厦门 0592-1",
        "--buyer-bank",
        "工行 123",
        "--item",
        "办公用品:1060301000000000000:13%:1:100",
    ]);
    assert_eq!(
        cli.ok(&["red-form", "fill", "--original", "1", "--reason", "退货"])
            .trim(),
        "已填开信息表 1（未上传）"
    );
    let form = cli.ok(&["red-form", "upload", "--id", "1"]);
    assert!(form.contains("审核通过"), "{form}");
    let number = form.split_whitespace().last().unwrap().to_owned();
    let red = cli.ok(&["red-form", "issue", "--number", &number]);
    assert!(
        red.starts_with(&format!("已依据信息表 {number} 开具红字增值税专用发票")),
        "{red}"
    );
    let err = cli.refused(&["red-form", "issue", "--number", &number]);
    assert!(
        err.contains("一张信息表只能对应开具一张红字发票，不能重复使用：信息表"),
        "{err}"
    );
}

#[test]
fn b_family_refusals_are_chinese_with_the_faq_words() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cli = Cli::new(d).locale(ZH);
    cli.ok(&[&["--start-time", "2026-11-10T09:00:00+08:00"], INIT].concat());
    cli.ok(PROVISION);
    cli.ok(LOGIN);
    // B2: the bureau refuses a purchase out of range, in its code's Chinese words.
    let err = cli.refused(&["rolls", "buy", "--kind", "normal", "--count", "1000000"]);
    assert!(
        err.contains("税务局拒绝 /rolls/buy：购票份数超出范围 [bad_count, B2]"),
        "{err}"
    );
    cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "10"]);
    cli.ok(ISSUE);
    // Into December: the login reports November on its own and says so in Chinese.
    let (_, steps) = cli.ok_err(&["--start-time", "2026-12-02T09:00:00+08:00", "status"]);
    assert!(
        steps.contains("本月首次登录，已对 202611 抄税(H12)"),
        "{steps}"
    );
    assert!(
        steps.contains("已自动向税务局上报汇总 202611(H12)"),
        "{steps}"
    );
    // B5 (FAQ 9.10(3)): the card cannot be cleared before the declaration (the login's own
    // attempt says so on a line of its own first).
    let err = last_error_line(&cli, &["clear", "--period", "202611"]);
    assert!(
        err.contains(
            "清卡失败：由于本月没有申报或申报数据错误，请将数据修改正确，重新申报后再清卡(H12)"
        ),
        "{err}"
    );
    // D7 (FAQ 5.1(2)): November's invoice is no longer of the current period.
    let err = last_error_line(&cli, &["void", "--id", "1"]);
    assert!(
        err.contains("必须为当月开具且未抄税：当月为 202612"),
        "{err}"
    );
    // Declared, the card clears.
    cli.ok(&["declare", "--period", "202611"]);
    let out = cli.ok(&["clear", "--period", "202611"]);
    assert!(out.starts_with("已对 202611 清卡；下次锁死日期 "), "{out}");
}

#[test]
fn tables_line_up_and_lang_overrides_the_locale() {
    let dir = tempfile::tempdir().unwrap();
    let cli = ready_zh(dir.path());
    cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "10"]);
    cli.ok(&["rolls", "buy", "--kind", "roll", "--count", "10"]);
    cli.ok(ISSUE);
    let status = cli.ok(&["status"]);
    let table: Vec<&str> = status.lines().skip(2).collect();
    assert!(table[0].starts_with("发票种类"), "{status}");
    assert_eq!(table.len(), 7, "{status}");
    // Every row is as wide as the header, counting a full-width character as two columns.
    let w = |s: &str| taxdisk_i18n::width::width(s);
    for row in &table {
        assert_eq!(w(row), w(table[0]), "{status}");
    }
    // The kind column ends at the same column in every row of `rolls stock` too.
    let stock = cli.ok(&["rolls", "stock"]);
    let code_at: Vec<usize> = stock
        .lines()
        .map(|l| w(&l[..l.find(" 0").unwrap()]))
        .collect();
    assert!(code_at.windows(2).all(|p| p[0] == p[1]), "{stock}");
    let list = cli.ok(&["list"]);
    assert!(
        list.contains("增值税普通发票") && list.contains("已报送"),
        "{list}"
    );
    let repair = cli.ok(&["repair"]);
    assert!(
        repair.starts_with("已扫描 ") && repair.contains("读回的每张发票都与金税盘签名的内容一致"),
        "{repair}"
    );
    // --lang en wins over LANG=zh_CN; the same refusal is the English one.
    let err = cli.refused(&[
        "--lang",
        "en",
        "user",
        "add",
        "--name",
        "陈主管",
        "--password",
        "pw-12345",
    ]);
    assert!(
        err.starts_with("error: H2: the user name \"陈主管\" is taken"),
        "{err}"
    );
    // English is the default under LANG=C, and --lang zh-CN chooses Chinese there.
    let en = Cli::new(dir.path());
    assert!(en.ok(&["status"]).contains("single limit"));
    let help = en.ok(&["--lang", "zh-CN", "--help"]);
    assert!(
        help.contains("命令:") && help.contains("发票填开"),
        "{help}"
    );
}

/// The `taxdisk-sim` binary under the Chinese locale.
fn sim_zh(args: &[&str]) -> std::process::Output {
    std::process::Command::new(support::sim_binary())
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", ZH)
        .args(args)
        .output()
        .unwrap()
}

/// Runs of three or more plain English words in `text` (words of two or more ASCII letters,
/// one space apart): what an English sentence left in a Chinese output looks like. Paths,
/// numbers, ids and options (`--kind`, `tcp:HOST:PORT`) are not words.
fn english_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    for line in text.lines() {
        let mut run: Vec<&str> = Vec::new();
        let mut flush = |run: &mut Vec<&str>| {
            if run.len() >= 3 {
                runs.push(format!("{}  <- {line}", run.join(" ")));
            }
            run.clear();
        };
        for token in line.split(' ') {
            // A Chinese character ends a run too: `失败：the disk` starts one at `the`.
            for (i, piece) in token.split(|c: char| !c.is_ascii()).enumerate() {
                if i > 0 {
                    flush(&mut run);
                }
                let word = piece.trim_matches(|c: char| ",.;:()'\"".contains(c));
                if word.len() >= 2 && word.chars().all(|c| c.is_ascii_alphabetic()) {
                    run.push(word);
                } else if !piece.is_empty() || i == 0 {
                    flush(&mut run);
                }
            }
        }
        flush(&mut run);
    }
    runs
}

#[test]
fn english_runs_finds_sentences_only() {
    assert!(english_runs("错误：金税盘 tcp:127.0.0.1:7461 无应答 --kind normal").is_empty());
    assert_eq!(english_runs("失败：the disk answered 3").len(), 1);
    assert_eq!(english_runs("failed: the disk answered").len(), 1);
}

#[test]
fn clap_errors_and_every_option_help_are_chinese_in_both_binaries() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path()).locale(ZH);
    // An unknown option: clap's exit status 2, every line Chinese.
    let o = cli.run(&["issue", "--bogus"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.starts_with("错误：无法识别的参数 '--bogus'"), "{err}");
    assert!(err.contains("用法: taxdisk issue"), "{err}");
    assert!(err.contains("更多信息请运行 '--help'。"), "{err}");
    assert!(!err.contains("Usage") && !err.contains("error:"), "{err}");
    // A value that does not parse names the value and why, in Chinese.
    let o = cli.run(&["issue", "--kind", "bogus"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.starts_with("错误：'--kind <KIND>' 的值 'bogus' 无效"),
        "{err}"
    );
    assert!(english_runs(&err).is_empty(), "{err}");
    // A missing required option and an unknown subcommand.
    let o = cli.run(&["user", "add"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.starts_with("错误：缺少以下必需参数：--name"), "{err}");
    let o = cli.run(&["issu"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.starts_with("错误：无法识别的子命令 'issu'"), "{err}");
    assert!(err.contains("提示：有一个相似的子命令 'issue'"), "{err}");
    // Option help of a subcommand, its notes and headings.
    let help = cli.ok(&["issue", "--help"]);
    assert!(help.contains("用法: taxdisk issue"), "{help}");
    assert!(help.contains("购买方名称。"), "{help}");
    assert!(help.contains("选项:"), "{help}");
    assert!(english_runs(&help).is_empty(), "{help}");
    let help = cli.ok(&["bench", "--help"]);
    assert!(help.contains("[默认值：10000]"), "{help}");
    assert!(help.contains("[环境变量：TAXDISK_PIN]"), "{help}");
    // taxdisk-sim: the same.
    let o = sim_zh(&["serve", "--bogus"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.starts_with("错误：无法识别的参数 '--bogus'")
            && err.contains("用法: taxdisk-sim serve"),
        "{err}"
    );
    let o = sim_zh(&["serve", "--flash-size", "7Q"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("未知的大小单位"), "{err}");
    let o = sim_zh(&["serve", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        help.contains("闪存大小") && help.contains("示例会话"),
        "{help}"
    );
    assert!(help.contains("[可选值：free, manual]"), "{help}");
    assert!(
        !help.contains("Usage") && !help.contains("Options:"),
        "{help}"
    );
}

#[test]
fn demo_conformance_and_bench_speak_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path()).locale(ZH);
    let out = dir.path().join("demo-out");
    let (demo, _) = cli.ok_err(&["demo", "--invoices", "20", "--out", out.to_str().unwrap()]);
    assert!(!demo.is_ascii(), "{demo}");
    assert!(english_runs(&demo).is_empty(), "{demo}");
    let conf = cli.ok(&["conformance"]);
    assert!(conf.contains("规则") && conf.contains("通过"), "{conf}");
    assert!(english_runs(&conf).is_empty(), "{conf}");
    let (bench, _) = cli.ok_err(&["bench", "--invoices", "20", "--batch", "4"]);
    assert!(!bench.is_ascii(), "{bench}");
    assert!(english_runs(&bench).is_empty(), "{bench}");
    // The signer line keeps the crate names, its words are Chinese.
    let signer = bench.lines().find(|l| l.starts_with("签名实现：")).unwrap();
    assert!(!signer.contains("arithmetic"), "{signer}");
}

/// A fault campaign's report under the Chinese locale: every invariant's line, its findings
/// included, is Chinese (the findings used to be English sentences such as "33 events decode
/// and verify").
#[test]
fn fault_campaign_findings_are_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(dir.path()).locale(ZH);
    let report = cli.ok(&[
        "faults",
        "--invoices",
        "20",
        "--power-cuts",
        "2",
        "--frame-faults",
        "0.05",
    ]);
    let lines: Vec<&str> = report
        .lines()
        .skip_while(|l| !l.starts_with("不变量："))
        .skip(1)
        .filter(|l| l.starts_with("  ["))
        .collect();
    assert_eq!(lines.len(), 8, "{report}");
    for line in &lines {
        let (_, detail) = line.split_once('：').unwrap_or_else(|| panic!("{line}"));
        assert!(!detail.is_ascii(), "{line}");
        assert!(english_runs(detail).is_empty(), "{line}");
    }
    assert!(report.contains("条记录均可解码，验签通过"), "{report}");
    assert!(english_runs(&report).is_empty(), "{report}");
}

#[test]
fn export_and_print_headings_are_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let cli = ready_zh(dir.path());
    cli.ok(&["rolls", "buy", "--kind", "normal", "--count", "10"]);
    cli.ok(ISSUE);
    let xlsx = dir.path().join("month.xlsx");
    cli.ok(&["export", "--out", xlsx.to_str().unwrap()]);
    // The workbook's sheets (rust_xlsxwriter writes their strings inline): the headings of
    // both sheets and the kind.
    let strings = std::process::Command::new("unzip")
        .arg("-p")
        .arg(&xlsx)
        .arg("xl/worksheets/*")
        .output()
        .unwrap();
    let strings = String::from_utf8_lossy(&strings.stdout).into_owned();
    for heading in [
        "发票代码",
        "发票号码",
        "购方名称",
        "税收分类编码",
        "增值税普通发票",
    ] {
        assert!(strings.contains(heading), "{heading}: {strings}");
    }
    // The PDF's text is uncompressed UTF-16 hex: its labels are Chinese.
    let pdf = dir.path().join("invoice.pdf");
    cli.ok(&["print", "--id", "1", "--out", pdf.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&std::fs::read(&pdf).unwrap()).into_owned();
    let hex = |s: &str| -> String { s.encode_utf16().map(|u| format!("{u:04X}")).collect() };
    for label in ["发票代码：", "开票日期：", "收款人："] {
        assert!(text.contains(&hex(label)), "{label} not in the PDF");
    }
}
