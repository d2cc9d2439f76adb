## The demo's summary, the conformance and bench reports.

demo-title = == taxdisk demo: one month ({$month}) of {$company} ==
demo-provisioned = tax office provisioned disk {$serial} for {$company} ({$tin})
demo-initialized = initialized the software (H1): administrator {$admin}, invoicers {$clerk} (all kinds) and {$cashier} (electronic and roll), {$products} products, {$customers} customers
demo-updates = applied {$changes} update(s) from the bureau (oil dealer, used-car market; H17) and downloaded {$litres} L of gasoline stock (D11)
demo-rolls = read rolls online (H13): {$blank} blank numbers over six kinds
demo-offline = day {$day}: the network to the bureau went down; issuing goes on offline within the disk's limits (D9)
demo-back-online = day {$day}: back online; manual upload sent {$sent} events, the bureau acknowledged through counter {$through} (D12)
demo-offline-refused = day {$day}: the disk refused to issue offline any longer: {$error}
demo-blank-void = day {$day}: two spoiled roll invoices voided blank from {$first} (D7, FAQ 5.2)
demo-evening-upload = day {$day}, evening: back online; manual upload sent {$sent} events, the bureau acknowledged through counter {$through} (D12)
demo-restocks = bought {$n} more roll(s) of {$size} numbers online as kinds ran short (H13; the disk holds at most 16 rolls, D4)
demo-mix = issued day by day: {$discount} with a discount line (FAQ 4.7), {$list} with a sales list (FAQ 4.11), {$purchase} purchase (FAQ 4.3), {$export} export (FAQ 4.2), {$oil} refined-oil (FAQ 8.x)
demo-next-login = {$next}: first login of the month copied {$copied} and reported {$reported} automatically (H12, FAQ 9.3)
demo-cleared = {$next}: declared and cleared the card for {$month}; next lock time {$lock} (D8)
demo-col-uploaded = uploaded
demo-col-pending = pending
demo-col-voided = voided
demo-col-red = red
demo-col-amount = amount (CNY)
demo-col-tax = tax (CNY)
demo-total = total
demo-issuing = issuing: {$n} invoices, {$rate} invoices/s one at a time, each validated, recorded, signed by the disk and uploaded to the bureau at once (signing speed: taxdisk bench)
demo-refusals = refusals met (the rule that refused):
demo-none = none
demo-files = files written:
demo-done = done in {$secs} s
demo-file-xlsx = xlsx, {$n} invoices
demo-file-pdf = pdf, {$kind}
demo-file-pdf-list = pdf, with sales list
demo-file-counter = counter report
demo-file-db = database (sqlite3)
demo-file-image = disk flash image
demo-file-bureau = bureau database

## taxdisk conformance (host::conformance::Report::table); JUnit stays language-neutral.
conf-title = conformance of {$link}
conf-col-rule = RULE
conf-col-commands = COMMANDS
conf-col-scenario = SCENARIO
conf-col-result = RESULT
conf-pass = PASS
conf-fail = FAIL
conf-skip = SKIP
conf-summary = {$total} scenarios: {$passed} passed, {$failed} failed, {$skipped} skipped
conf-junit = JUnit XML written to {$path}

## taxdisk bench.
bench-durability-full = synchronous=FULL: one fsync per commit
bench-durability-normal = synchronous=NORMAL: WAL, durable across process crashes
bench-label-durability = store durability:
bench-label-signer = signer:
bench-label-raw = raw SM2 signing (one core):
bench-label-one-disk = end-to-end issue, 1 disk:
bench-label-latency = latency per call:
bench-label-farm = end-to-end issue, {$jobs} disks:
bench-raw = {$rate} signatures/s  [{$n} signatures between the calls]
bench-one-disk = {$rate} invoices/s  ({$percent} % of raw signing)  [{$n} invoices, {$batch} per call]
bench-latency = p50 {$p50}  p99 {$p99}
bench-farm = {$rate} invoices/s  (scaling x{$scaling} over 1 disk, {$cores} cores here)
bench-label-farm-disk = {"  "}disk {$disk}:
bench-farm-disk = {$rate} invoices/s  p50 {$p50}  p99 {$p99}  [{$n} invoices]
bench-label-upload = bureau upload:
bench-label-farm-upload = bureau upload, all disks:
bench-upload = {$events} events in {$secs} s: {$rate} events/s verified and stored by the bureau
bench-farm-disk-lag = {"  "}upload lag {$lag}

## The fault campaign's report (taxdisk faults; src/faults.rs). An invariant's detail stays English.
faults-head = fault campaign: seed {$seed}, {$invoices} invoices, {$cuts} power cuts, frame faults {$rate} %
faults-workload = workload:
faults-invoices-issued = invoices issued
faults-invoices-issued-more = {"  "}(red {$red}, found by repair {$found}; abandoned unsigned {$abandoned})
faults-voids = voids
faults-blank-voids = blank voids
faults-uploads = manual uploads
faults-cleared = periods cleared
faults-journal-events = journal events
faults-frames = disk frames
faults-injected = faults injected:
faults-power-cuts = power cuts
faults-power-cuts-armed = {"  "}(armed {$armed})
faults-drop-request = DropRequest
faults-drop-answer = DropAnswer
faults-corrupt-answer = CorruptAnswer
faults-duplicate-answer = DuplicateAnswer
faults-late-answer = late answers
faults-frame-total = frame faults total
faults-recovery = recovery:
faults-relogins = logins again
faults-repairs = repairs
faults-error-issue-outcome-unknown = issue outcome unknown
faults-error-answer-lost = answer lost
faults-error-resend-refused = resend refused
faults-error-login-lost = login lost
faults-error-stock-ran-out = stock ran out
faults-error-unexplained = unexplained
faults-invariants = invariants:
faults-inv-no-lost-invoice = no lost invoice
faults-inv-no-doubled-invoice = no doubled invoice
faults-inv-counters-monotonic = counters monotonic
faults-inv-journal-intact-after-reboot = journal intact after reboot
faults-inv-store-and-disk-agree-after-repair = store and disk agree after repair
faults-inv-blank-voids-exactly-once = blank voids exactly once
faults-inv-bureau-received-exactly-the-disk-s-events = bureau received exactly the disk's events
faults-inv-refusals-explained-by-the-faults = refusals explained by the faults
faults-all-hold = all invariants hold in {$secs} s
faults-violated = INVARIANTS VIOLATED in {$secs} s

## The conformance suite's reasons and the replay's notes in the table (host l10n::suite); the
## English is the suite's own text, which JUnit keeps.
suite-why-no-tokens = needs bureau tokens: no token source was given
suite-why-no-control = needs the simulator's control channel (clock, power): none was given
suite-why-not-ours = needs a disk this run provisioned (a factory-state disk and a token source)
suite-why-factory = needs a factory-state disk
suite-why-copied-period = needs a copied period (the D8 scenario)
suite-why-pending-invoice = needs an invoice of the last period not uploaded (the D8 scenario leaves one)
suite-why-not-factory = the disk is {$a} already: D1 needs a factory-state disk
suite-why-no-blank = needs blank {$a} numbers and no token source can grant a roll
suite-fail-tokens = token source: {$a}
suite-fail-control = control channel: {$a}
suite-fail-panic = the scenario panicked: {$a}
suite-fail-refusal = {$a}: expected refusal {$b} ({$c}), got {$d}: {$e}
suite-fail-answered = {$a}: expected refusal {$b} ({$c}), the disk answered {$d}
suite-fail-raw-refusal = {$a}: expected {$b}, got refusal {$c}
suite-fail-raw-answered = {$a}: expected {$b}, the disk answered {$c}
replay-note-no-serial = the replaying disk did not tell its serial; tokens not re-signed
replay-note-controls = {$a} control request(s) of the trace not applied: no control channel
replay-note-no-key = the trace holds no public key: recorded signatures not verified
replay-note-control-error = before request #{$a}: control {$b} answered {$c}
replay-summary = {$requests} requests replayed, {$compared} answers compared, {$differences} differences
replay-difference = #{$index} {$command} {$path}: recorded {$recorded} / replayed {$replayed} ({$why})
replay-note = note: {$note}
replay-aborted = aborted: {$reason}
replay-why-equal = equal
replay-why-decodes = decodes
replay-absent = absent
replay-command = command {$id}
conf-start-time = --start-time sets the clock of the fresh reference simulator; a served or USB disk keeps its own (taxdisk-sim serve --start-time)
conf-sim-disk = conformance needs a factory-state disk: run it without --disk (a fresh reference simulator), or on tcp:/usb
