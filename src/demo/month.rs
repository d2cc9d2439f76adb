//! The demo's month day by day (issuing, the network down and back, voids and red invoices),
//! then the next month's login, declaration and clear card, and the files written.

use super::*;

/// Issues the month day by day from the start day.
pub(super) fn days(w: &mut World, cfg: &DemoConfig) -> Result<(), DemoError> {
    let t_start = cfg.start;
    let month = t_start.period();
    let bar = if cfg.progress {
        ProgressBar::new(cfg.invoices as u64)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} invoices  {per_sec}")
    {
        bar.set_style(style.progress_chars("=> "));
    }

    // The month, day by day, from the start day: the network goes down on the 12th of a
    // month run from its 1st (that share of the days of a later start), and two roll
    // invoices are voided blank on the 20th (likewise).
    let first_day = t_start.civil().day;
    let last_day = days_in(month);
    let days = last_day - first_day + 1;
    let on_share = |share: u8| first_day + (share as u32 * days as u32 / last_day as u32) as u8;
    let offline_from = on_share(11);
    let blank_void_day = on_share(19);
    let per_day = cfg.invoices.div_ceil(days as usize).max(1);
    let mut offline = false;
    let mut back_online = false;
    let mut blocked: Vec<InvoiceKind> = Vec::new();
    for day in first_day..=last_day {
        bar.set_message(format!("{month} day {day:02}"));
        if day == offline_from {
            offline = true;
            w.online_now = false;
            // The network goes down: the bureau address points at a closed port.
            let dead = setup(std::net::TcpListener::bind("127.0.0.1:0"), "closed port")?;
            let port = setup(dead.local_addr(), "closed port")?.port();
            drop(dead);
            w.wf.set_bureau(Some(setup(
                BureauClient::with_timeout(
                    &format!("http://127.0.0.1:{port}"),
                    Duration::from_millis(200),
                ),
                "offline client",
            )?));
            w.report.step(t!("demo-offline", day = day));
        }
        if back_online {
            back_online = false;
            offline = false;
            w.online_now = true;
            w.set_time(at(month, day, 8, 45))?;
            w.wf.set_bureau(Some(w.online.clone()));
            let up = w.wf.upload().step("upload (H11)")?;
            blocked.clear();
            w.report.step(t!(
                "demo-back-online",
                day = day,
                sent = up.sent,
                through = up.through_counter.unwrap_or(0)
            ));
        }
        for i in 0..per_day {
            if w.report.issue_count >= cfg.invoices {
                break;
            }
            let (open, close) = working_minutes(day, t_start.civil());
            let minute = open + (i * (close - open) as usize / per_day) as u32;
            w.set_time(at(month, day, (minute / 60) as u8, (minute % 60) as u8))?;
            let kind = pick_kind(&mut w.rng);
            if blocked.contains(&kind) {
                continue;
            }
            let (d, oil, discount) = w.draft(kind, true)?;
            let flags = [
                discount,
                d.sales_list,
                d.fields.variant() == Variant::Purchase,
                d.fields.variant() == Variant::Export,
                oil,
            ];
            match w.issue(d) {
                Ok(issued) => {
                    for (m, f) in w.mix.iter_mut().zip(flags) {
                        *m += usize::from(f);
                    }
                    w.first.entry(kind).or_insert(issued.id);
                    w.issued.push((issued.id, kind, oil, discount));
                    bar.inc(1);
                }
                Err(e) if offline && e.wire_error().is_some() => {
                    // D9: an offline limit is reached; the network comes back tomorrow.
                    if blocked.is_empty() {
                        w.report
                            .step(t!("demo-offline-refused", day = day, error = e.localized()));
                    }
                    w.report.refused(&e);
                    blocked.push(kind);
                    back_online = true;
                }
                Err(e) if e.wire_error() == Some(taxdisk_protocol::WireError::OilStockShort) => {
                    w.report.refused(&e)
                }
                Err(e) => {
                    return Err(DemoError::Workflow {
                        step: format!("issue on day {day}"),
                        source: e,
                    });
                }
            }
            // Now and then: a void of a paper invoice of this month (H9), a red invoice (H10).
            let roll = w.rng.random_range(0..1000);
            if roll < 15 {
                void_one(w)?;
            } else if roll < 35 && !offline {
                red_one(w)?;
            }
        }
        if day == blank_void_day {
            w.restock(InvoiceKind::Roll, 2).step("read rolls (H13)")?;
            let b =
                w.wf.void_blank(InvoiceKind::Roll, 2)
                    .step("blank void (H9)")?;
            w.used(InvoiceKind::Roll, 2);
            w.report
                .step(t!("demo-blank-void", day = day, first = b.first));
        }
    }
    bar.finish_and_clear();
    if offline {
        // A run that started late in the month went offline on its last day: the network
        // comes back before the month ends.
        w.online_now = true;
        w.wf.set_bureau(Some(w.online.clone()));
        let up = w.wf.upload().step("upload (H11)")?;
        w.report.step(t!(
            "demo-evening-upload",
            day = last_day,
            sent = up.sent,
            through = up.through_counter.unwrap_or(0)
        ));
    }
    if w.restocks > 0 {
        w.report
            .step(t!("demo-restocks", n = w.restocks, size = ROLL_SIZE));
    }
    w.report.step(t!(
        "demo-mix",
        discount = w.mix[0],
        list = w.mix[1],
        purchase = w.mix[2],
        export = w.mix[3],
        oil = w.mix[4]
    ));
    Ok(())
}

/// The cashier's refused void (H9), the next month's login, declaration and clear card, and
/// the files: spreadsheet, printed invoices, counter report.
pub(super) fn close(w: &mut World, cfg: &DemoConfig) -> Result<(), DemoError> {
    let out = &cfg.out;
    let month = cfg.start.period();
    // H9: the cashier may not void the clerk's invoice.
    w.wf.logout().step("logout")?;
    w.wf.login(CASHIER, CASHIER_PW, &setup(Pin::new(Pin::FACTORY), "pin")?)
        .step("login (cashier)")?;
    let roll = w
        .issued
        .iter()
        .find(|(_, k, _, _)| *k == InvoiceKind::Roll)
        .map(|x| x.0);
    if let Some(Err(e)) = roll.map(|id| w.wf.void(&[id])) {
        w.report.refused(&e);
    }
    w.wf.logout().step("logout")?;

    // The next month: the first login reports the last period (H12), the clear card needs
    // the declaration first (FAQ 9.10), then it goes through.
    let next = month.next();
    w.set_time(at(next, 1, 9, 0))?;
    let login =
        w.wf.login(CLERK, CLERK_PW, &setup(Pin::new(Pin::FACTORY), "pin")?)
            .step("login next month")?;
    w.report.step(t!(
        "demo-next-login",
        next = next,
        copied = format!(
            "{:?}",
            login
                .copied
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
        ),
        reported = format!(
            "{:?}",
            login
                .reported
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
        )
    ));
    if let Err(e) = w.wf.clear_card(month) {
        w.report.refused(&e);
    }
    w.set_time(at(next, 10, 10, 0))?;
    w.wf.declare(month).step("declare (B5)")?;
    w.wf.clear_card(month).step("clear card (H12)")?;
    let info = w.wf.refresh_info().step("disk info")?;
    w.report.step(t!(
        "demo-cleared",
        next = next,
        month = month,
        lock = info.lock_time.map(|t| t.to_string()).unwrap_or_default()
    ));

    // Files: the month's spreadsheet, printed invoices, the counter report medium.
    let xlsx = out.join(format!("invoices-{month}.xlsx"));
    let ex = w.wf.export_month(month, &xlsx).step("export (H16)")?;
    w.report
        .files
        .push((t!("demo-file-xlsx", n = ex.invoices), xlsx));
    let firsts: Vec<(InvoiceKind, InvoiceId)> = w.first.iter().map(|(k, id)| (*k, *id)).collect();
    for (k, id) in firsts {
        let pdf =
            w.wf.print(id, Margins::default(), ListLayout::default())
                .step("print (H18)")?;
        let path = out.join("print").join(format!("{}-{}.pdf", k.name(), id.0));
        setup(std::fs::write(&path, pdf), "write pdf")?;
        w.report
            .files
            .push((t!("demo-file-pdf", kind = kind_name(k)), path));
    }
    if let Some((id, _, _, _)) = w.issued.iter().find(|(id, k, _, _)| {
        *k == InvoiceKind::Normal
            && w.wf
                .store()
                .invoice(*id)
                .map(|s| s.invoice.draft().sales_list)
                .unwrap_or(false)
    }) {
        let pdf =
            w.wf.print(
                *id,
                Margins {
                    right_mm: 2,
                    down_mm: -1,
                },
                ListLayout::default(),
            )
            .step("print list (H18)")?;
        let path = out
            .join("print")
            .join(format!("normal-with-sales-list-{}.pdf", id.0));
        setup(std::fs::write(&path, pdf), "write pdf")?;
        w.report.files.push((t!("demo-file-pdf-list"), path));
    }
    let medium = out.join(format!("counter-report-{month}.json"));
    w.wf.counter_report(month, &medium)
        .step("counter report (H12)")?;
    w.report.files.push((t!("demo-file-counter"), medium));
    w.report
        .files
        .push((t!("demo-file-db"), out.join("taxdisk.db")));
    w.report
        .files
        .push((t!("demo-file-image"), out.join("disk.img")));
    w.report
        .files
        .push((t!("demo-file-bureau"), out.join("bureau.db")));
    Ok(())
}

fn void_one(w: &mut World) -> Result<(), DemoError> {
    // A paper invoice of this month, not oil (FAQ 8.6) and not yet voided.
    let candidates: Vec<usize> = w
        .issued
        .iter()
        .enumerate()
        .filter(|(_, (_, k, oil, _))| k.is_paper() && !oil)
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        return Ok(());
    }
    let i = candidates[w.rng.random_range(0..candidates.len())];
    let (id, ..) = w.issued.remove(i);
    match w.wf.void(&[id]) {
        Ok(_) => Ok(()),
        Err(e) => {
            w.report.refused(&e);
            Ok(())
        }
    }
}

fn red_one(w: &mut World) -> Result<(), DemoError> {
    let candidates: Vec<usize> = w
        .issued
        .iter()
        .enumerate()
        .filter(|(_, (_, k, oil, discount))| {
            matches!(
                k,
                InvoiceKind::Special | InvoiceKind::Normal | InvoiceKind::Electronic
            ) && !oil
                && !discount
        })
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        return Ok(());
    }
    let i = candidates[w.rng.random_range(0..candidates.len())];
    let (id, kind, ..) = w.issued.remove(i);
    let orig = setup(w.wf.store().invoice(id), "read original")?;
    let Some(rec) = orig.disk.clone() else {
        return Ok(());
    };
    if orig.invoice.draft().sales_list {
        // FAQ 7.8: a red invoice takes no sales list; the company reverses this one another
        // way (merged lines on a form of its own), not in the demo.
        return Ok(());
    }
    let draft = if kind == InvoiceKind::Special {
        // H10: the seller fills a red info form naming the original; the bureau approves it
        // at once (automatic review); the red invoice is issued from the approved form.
        let body =
            w.wf.seller_form_for(id, "销货退回")
                .step("red form (H10)")?;
        let form = w.wf.red_form_fill(&body).step("red form fill (H10)")?;
        let uploaded = w.wf.red_form_upload(form).step("red form upload (H10)")?;
        let Some(number) = uploaded.number else {
            return Ok(());
        };
        w.wf.red_draft_from_form(&number)
            .step("red draft from form (H10)")?
    } else {
        let (c, n) = (rec.code.to_string(), rec.number.to_string());
        w.wf.red_draft_from_original(&c, &n, &c, &n)
            .step("red draft (H10)")?
    };
    match w.issue(draft) {
        Ok(_) => Ok(()),
        Err(e) if e.wire_error().is_some() => {
            w.report.refused(&e);
            Ok(())
        }
        Err(e) => Err(DemoError::Workflow {
            step: "red issue".into(),
            source: e,
        }),
    }
}
