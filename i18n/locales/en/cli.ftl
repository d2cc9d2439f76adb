## taxdisk's own texts: its errors and the outcome of each workflow command.

cli-error = error: {$error}
cli-no-session = not logged in: run `taxdisk login --user NAME` first (H2)
cli-prompt-missing = {$what}: no password given (use the prompt, TAXDISK_PASSWORD or --password)
cli-prompt-io = {$what}: cannot read the password: {$error}
cli-key-bad = the disk's public key is not a valid SM2 key
cli-key-bad-signature = signature does not verify with the disk's public key (D5)
cli-file = {$path}: {$error}
cli-bench-disk = disk: {$error}
cli-bench-bureau = bureau: {$error}
cli-bench-store = store: {$error}
cli-bench-invoice = invoice: {$error}
cli-demo-step = {$step}: {$error}
cli-demo-setup = setup: {$error}
cli-suite-failed = conformance: {$n} scenario(s) failed
cli-replay-different = replay: {$n} difference(s)
cli-faults-config = faults: {$error}
cli-faults-setup = faults: setting up ({$step}) failed: {$error}
cli-faults-stuck = faults: {$step} still fails after {$tries} tries with recovery: {$error}
cli-data-folder = data folder {$path}: {$error}
cli-sim-disk = simulated disk: {$error}
cli-input = {$what}: {$error}
cli-usage-start-time = --start-time sets the in-process simulator's clock; a served or USB disk keeps its own (start it with taxdisk-sim serve --start-time)
cli-usage-faults = --frame-faults must be 0 to 0.5 and --invoices at least 1
cli-faults-failed = fault campaign: an invariant failed (see above)
cli-usage-demo-invoices = --invoices must be 10 to 200000
cli-usage-bench-tcp-bureau = bench over tcp needs --bureau URL: the bureau the served disk trusts
cli-usage-bench-disk = bench runs on fresh simulators (no --disk) or on served disks: --disk tcp:HOST:PORT and/or --farm tcp:HOST:PORT (repeated) or --farm-file FILE, with --bureau URL
cli-usage-bench-jobs-tcp = --jobs {$jobs} runs {$jobs} fresh in-process simulated disks; with served disks the farm is the disks given (--disk, --farm, --farm-file), so leave --jobs out
cli-usage-bench-ranges = --invoices must be at least 1, --jobs (or the served disks) 1 to 64 and --batch 1 to 10000
cli-bench-farm-file = cannot read the farm file {$path}: {$error}
cli-bench-farm-line = {$path} line {$line}: {$error}
cli-wrote = wrote {$path}
cli-verified = signature verified; check it yourself with:
cli-bad-kind = unknown invoice kind {$kind} (F1): use special, normal, electronic, roll, motor-vehicle, used-car or a type code
cli-bad-period = period {$period}: YYYYMM with month 01-12
cli-bad-number = invoice number {$number}: 8 digits, 1 to 99999999 (F2)

## Invoice kinds (F1) and the states of a stored invoice, as tables show them.
kind-special = special
kind-normal = normal
kind-electronic = electronic
kind-roll = roll
kind-motor-vehicle = motor-vehicle
kind-used-car = used-car
state-pending = pending
state-issued = issued
state-uploaded = uploaded
state-voided = voided
state-abandoned = abandoned
out-yes = yes
out-no = no

## Session (H1, H2, D1, H12).
out-initialized = initialized: administrator {$name}; bureau {$url} answered the connection test (H1)
out-provisioned = disk {$serial} provisioned for {$company} ({$tin}), machine {$machine}; lock time {$lock} (D1)
out-logged-in = logged in as {$user} on disk {$serial} ({$state})
out-logged-out = logged out
step-copied = copied tax (抄税) for {$period} at the first login of the month (H12)
step-reported = reported period {$period} to the bureau automatically (上报汇总, H12)
step-receipt = read the bureau's receipt of the report of {$period} into the disk (D4)
step-cleared = cleared the card (清卡) for {$period} (H12)
step-updates = applied {$n} change(s) the bureau made to this disk (online change, H17)
step-uploaded = uploaded {$n} event(s) that waited for the bureau (H11)
step-note = note: {$note}

## Users, customers, products (H2, H5, H6).
out-invoicer-added = added invoicer {$name} (id {$id}) for {$kinds} kind(s)
out-password-changed = password changed
out-renamed = renamed to {$name}
out-customer-added = added customer {$id}
out-customer-auto-save-on = buyers of issued invoices are saved to the customers automatically (H5)
out-customer-auto-save-off = buyers of issued invoices are no longer saved automatically; `customer add` saves one by hand (H5)
out-category-added = added category {$id}: {$name}
out-category-added-under = added category {$id}: {$name}, under {$parent}
out-category-customers = {$n} customer(s)
out-category-taken = --name {$name}: category {$id} has that name already; a category's name differs from every other (H5)
out-category-unknown = {$flag} {$name}: no customer category has that name (see `customer category list`)
out-product-added = added product {$id}

## Issue, void, red (H8, H9, H10).
out-issued = issued {$kind} {$code} {$number} (id {$id}, counter {$counter}){$uploaded}{$saved}
out-issued-uploaded = , uploaded
out-issued-not-uploaded = , not uploaded yet
out-issued-buyer-saved = , buyer saved to the customers
out-draft-refused = draft {$n}: {$error}
out-draft-not-issued = draft {$n} not issued: {$error}
out-drafts-refused = {$refused} of {$total} drafts not issued (listed above); the others are issued
out-issue-input = give --file FILE, or --kind K with --item lines (H7)
out-voided-blank = voided {$n} blank number(s) of {$kind} from {$code} {$first}
out-voided = voided {$code} {$number} (id {$id})
out-void-input = give --id N (repeatable), or --blank N with --kind K (H9)
out-issued-red = issued red {$kind} {$code} {$number} (id {$id})
out-issued-red-form = issued red {$kind} {$code} {$number} (id {$id}) from form {$form}
out-form-row = form {$id} {$state} {$number}
out-form-no-number = (no number yet)
out-form-filled = filled form {$id} (not uploaded)
out-form-deleted = deleted form {$id}

## Upload, repair, monthly (H11, H12, B5).
out-upload = sent {$sent} events, bureau accepted {$accepted}, {$marked} marked uploaded; {$rejected} rejected
out-upload-rejected = rejected counter {$counter}: {$message} ({$code})
out-counter-report = wrote the counter report of {$period} to {$path} (办税厅抄报, H12)
out-reported = reported {$period}: counters {$first}..{$last} (上报汇总, H12)
out-declared = declared {$period} at the bureau (B5)
out-cleared = cleared the card for {$period}; next lock time {$lock}

## Rolls (H13, D4).
out-rolls-none = no roll grants waiting: nothing loaded (buy with `taxdisk rolls buy`)
out-roll-row = {$kind} {$code} {$first}-{$last} used {$used} left {$left}
out-return-hint = {$error}; when the tax bureau is reachable run `taxdisk report`, then return the roll again

## Status (H14).
out-status-disk = disk {$serial} state {$state} time {$time} period {$period} lock {$lock} upload deadline {$deadline} counter {$counter}
out-status-roles = refined oil: {$oil}{$until}; used car: {$car}
out-status-until = {" "}until {$time}
col-kind = kind
col-auth = auth
col-single-limit = single limit
col-hours = hours
col-offline-amount = offline amt
col-pending = pending
col-blank = blank
out-oil-stock = oil category {$category}: {$quantity} {$unit}

## Export, print, backup (H16, H18, H4), online change (H17).
out-updates = applied {$n} change(s) (H17)
out-exported = exported {$invoices} invoices and {$lines} lines of {$period} to {$path} ({$voided} voided left out)
out-list-not-as-signed = (not what the disk signed: run `taxdisk repair`)
warn-list-not-as-signed = warning: {$count} invoice(s) of {$period} in the store are not what the disk signed; their figures are not shown: run `taxdisk repair` (H8)
err-export-not-as-signed = {$count} invoice(s) left out of the export: the store's copy is not what the disk signed; run `taxdisk repair` (H8)
out-printed = printed invoice {$id} to {$path}
out-backup = backup {$name}
out-restored = restored {$name}
cli-bad-item = --item {$item}: {$why}; expected NAME:CLASS_CODE:RATE%:QUANTITY:UNIT_PRICE

## Repair (H8, FAQ 4.22).
out-repair-scanned = scanned {$events} journal events: {$issued} pending became issued, {$abandoned} abandoned, {$undecided} undecided, {$voided} voided, {$unknown} on the disk unknown to the database
out-repair-mismatch = invoice {$id} ({$code} {$number}) did not match what the disk signed: {$differences}; {$outcome}
out-repair-cannot-rebuild = its content cannot be rebuilt from the disk: reissue or restore a backup (FAQ 4.22)
out-repair-restored = restored the signed values
out-repair-unchanged = unchanged
out-repair-all-match = every invoice read back matches what the disk signed
out-repair-note = note: {$note}

## What the password prompt asks for.
cli-password-for = password for {$user}
cli-password-for-new = password for the new invoicer {$user}
cli-bad-durability = durability {$value}: use full or normal
cli-data-busy = the data folder {$a} is in use by {$b} (another taxdisk command); waited {$c} s
cli-admin-token-empty = {$a}: the administrator token file is empty
cli-embedded-bureau = embedded bureau ({$a}): {$b}
cli-bad-disk = --disk {$value}: expected sim:PATH, tcp:HOST:PORT, usb, usb:SERIAL or usb:BUS.ADDRESS
cli-oil-unit = give one of --litres or --tonnes (H15)
cli-oil-range = oil quantity out of range
cli-oil-positive = oil quantity must be positive (H15)
cli-bureau-offline = offline: {$error}; working with the disk's offline limits (D9) until it answers
cli-bureau-never-reached = {$error}; this data folder has never reached it, so the disk's bureau key is not known yet
