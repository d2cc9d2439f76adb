## The host's errors (host::l10n): the English is each error's Display.

## host::disk::DiskError
disk-refused = {$command} refused by the disk: {$error}{$detail}
disk-detail-tries = ; {$n} tries left
disk-detail-storage = ; the disk stopped: its journal is still readable through event {$n}
disk-detail-other = {" "}(detail {$n})
disk-busy = {$command} refused: the disk is in use by another session (0x0004, D14); close the other program or wait
disk-timeout = no answer from the disk ({$link}) to {$command} after {$attempts} attempt(s) of {$ms} ms
disk-corrupted = the disk's answers to {$command} were corrupted {$attempts} time(s): {$last}
disk-transport = {$error}
disk-encode = {$command} could not be encoded: {$error}
disk-protocol = the disk answered {$command} against the protocol: {$what}

## host::bureau_client::BureauError
bureau-client-bad-url = invalid bureau address {$url}: expected http://host:port (安全接入服务器地址, FAQ 2.1)
bureau-client-unreachable = the tax bureau at {$url} is unreachable ({$reason}); check the secure access server address (安全接入服务器地址, FAQ 2.1) and the network
bureau-client-timeout = the tax bureau at {$url} did not answer {$path} within {$secs} s
bureau-client-refused = the tax bureau refused {$path}: {$message} [{$code}, {$rule}]
bureau-client-http = the server at {$url} answered {$path} with HTTP {$status}, not a bureau error: {$snippet}
bureau-client-needs-office = the tax bureau refused {$path}: it is the tax office's step and this software holds no administrator token for that bureau (taxdisk: --bureau-admin-token-file FILE) [{$code}, {$rule}]
bureau-client-bad-answer = the tax bureau's answer to {$path} could not be read: {$reason}

## host::workflow::ClearCardFailure: each reason of FAQ 9.10 (H12)
clear-no-server = no secure access server address (安全接入服务器地址) is set: set it and test the connection (FAQ 9.10(1), H12)
clear-network = the network to the tax bureau is down: {$error} (FAQ 9.10(2), H12)
clear-not-declared = period {$period} is not declared (申报) at the tax bureau, or the declaration has not arrived yet: declare, then clear the card again (FAQ 9.10(3), 9.10(4), H12)
clear-not-reported = period {$period} is not reported (上报汇总) yet: report it first (FAQ 9.5, H12)
clear-upload-incomplete = invoices of period {$period} are not all uploaded: upload them, then clear the card (FAQ 9.5(2), H11)
clear-not-finished = period {$period} has not ended yet; it can be cleared next month (H12)
clear-data-mismatch = the declaration or summary of period {$period} does not match the invoices: {$message} (FAQ 9.10(3), H12)
clear-refused = the tax bureau refused the clear card: {$error} (H12)
clear-disk = the disk refused the clear-card token: {$error} (H12)

## host::workflow::WorkflowError
wf-not-logged-in = {$action} refused: nobody is logged in; log in with user name, password and disk PIN (H2)
wf-no-bureau = {$action} needs the tax bureau, but no secure access server address (安全接入服务器地址) is set (FAQ 2.1, H1)
wf-connection-test = initialization refused: the connection test to {$url} failed: {$error} (FAQ 2.1, H1)
wf-void-not-permitted = void refused: invoice {$id} was issued by another user; only the issuer or the administrator may void (FAQ 5.1, H9)
wf-rule = {$what} refused: {$problem} ({$rule})
wf-issue-unknown = invoice {$id} may or may not have been signed ({$error}); it stays pending: run repair (FAQ 4.22, H8, H11)
wf-batch = invoice {$at}: {$error} (invoices done before it: {$done})
wf-return-before-report = returning the roll refused: the tax bureau has not received the summary (上报汇总) of {$period}; a roll can be returned only once that month is reported (FAQ 4.21(4), D4)
wf-clear-card = clear card (清卡) failed: {$error}
wf-medium = medium file {$path}: {$problem} ({$rule})
wf-io = file {$path}: {$error}
wf-export = export failed: {$error} (H16)
wf-print = print refused: {$error} (H18)

## host::store::StoreError
store-sql = database error: {$error}
store-io = file error: {$error}
store-schema-too-new = the database has schema version {$found}, newer than this software's {$supported}
store-corrupt = stored data is corrupt: {$what}
store-initialization = H1: {$what}
store-field = {$rule}: {$field}: {$problem}
store-name-taken = H2: the user name {$name} is taken; an invoicer's name must differ from the administrator's and every other user's (FAQ 2.2)
store-category-taken = H5: the category name {$name} is taken by category {$id}; a category's name differs from every other
store-wrong-password = H2: wrong user name or password
store-permission = {$rule}: permission denied: {$what}
store-coding-disabled = H6: product and customer coding is disabled: the disk holds only motor-vehicle or used-car authorization (FAQ 3.5)
store-not-found = {$what} not found
store-state = {$rule}: {$what} is {$state}; {$problem}
store-hash = password hashing failed: {$error}

## host::invoice::InvoiceError
inv-no-lines = H7: the invoice has no lines
inv-needs-list = H7: {$lines} lines do not fit the paper form (at most {$max}); use a sales list (清单, FAQ 4.11)
inv-list-not-allowed = {$rule}: a sales list is not allowed here: {$reason}
inv-vehicle-lines = H7: a {$kind} invoice has exactly one line (the vehicle), found {$found}
inv-quantity-price = H7: line {$line}: quantity x unit price = {$product} differs from amount {$amount} by more than 0.01
inv-line-tax = H7: line {$line}: tax {$tax} differs from amount x rate = {$expected} by more than 0.06
inv-total-tax = H7: total tax differs from the sum of amount x rate by {$deviation}, more than 1.27
inv-line-problem = {$rule}: line {$line}: {$problem}
inv-precision = F8: line {$line}: {$field} has more than 2 decimal places
inv-overflow = F8: {$field} is too large
inv-rate = F7: line {$line}: tax rate {$rate} is not in force{$hint}
inv-zero-rate-special = H7: line {$line}: a special invoice cannot be zero-rated
inv-discount-first = H7: line {$line}: a discount line cannot come first
inv-discount-after = H7: line {$line}: a discount line cannot follow another discount line
inv-discount-mismatch = H7: line {$line}: the discount line's {$field} differs from the discounted line's
inv-discount-request = H7: discount: {$problem}
inv-discount-on-red = H10: line {$line}: a red invoice carries no discount lines (FAQ 7.7)
inv-sign = {$rule}: line {$line}: {$field} must be {$expected}
inv-zero-total = D5: the total amount including tax cannot be zero (FAQ 4.10)
inv-missing = H7: {$field} is required
inv-too-long = H7: {$field} is longer than {$max} bytes
inv-control = H7: {$field}: character {$position} is a control character (U+{$code}); an invoice takes printable text only
inv-currency = H7: invoices are issued in CNY only (FAQ 4.2); convert {$found} amounts to CNY
inv-text = H7: {$field}: character {$found} at position {$position} is not allowed; switch the input method to half-width (FAQ 4.18)
inv-format = {$error}
inv-kind-fields = H7: {$problem}
inv-red-ref = H10: {$problem}

## What a login did not manage on its own (host::workflow::session, LoginReport.notes).
note-online-update = online update: {$error}
note-upload = upload: {$error}
note-report-postponed = monthly report postponed: {$error}
note-offline = monthly report postponed: the tax bureau is unreachable; the period is copied and issuing goes on (H12)
note-no-bureau = no bureau address: the summary was not reported; use the counter report (办税厅抄报, H12)
note-receipt = the disk did not take the bureau's receipt of {$period}: {$error}
note-report-refused = report of {$period} refused: {$error}

## Problems the workflow words itself (WorkflowError::Rule).
void-not-current = only invoices of the current period ({$current}) not yet copied (抄税) can be voided; this one is of {$period}
red-form-used = info form {$number} is used, not approved
red-form-not-approved = info form {$number} is {$state}, not approved

## Changes whose answer was lost, sent again at login (host::workflow::intents; D4, D7, D11).
intent-blank-void = blank void of {$count} {$kind} number(s)
intent-return-roll = return of {$kind} roll {$code} from {$first}
intent-return-oil = return of {$quantity} milli-units of oil category {$category}
intent-blank-voided = numbers {$first}-{$last} of roll {$code} voided blank (D7)
intent-oil-returned = the bureau took the disk's receipt (D11)
intent-answer-lost = the disk's answer was lost ({$error}); whether it was done is not known: the next command logs in and sends it again under the same request id, so it is done once
note-intent-done = the {$what} begun before its answer was lost is done, once: {$done}
note-intent-unknown = the {$what} begun before its answer was lost is still not known ({$error}); it is sent again at the next login
note-intent-not-done = the {$what} begun before its answer was lost was not done: {$error}
note-intents-failed = changes begun earlier: {$error}

## A roll return in words (host::workflow::RollReturn::lines; D4, FAQ 4.20).
out-roll-returned = returned {$kind} roll {$code} numbers {$first}-{$last} ({$count} blank) at {$time}; receipt signed by disk {$serial} (D4)
out-receipt-accepted = the bureau accepted the receipt (FAQ 4.20)
out-receipt-not-received-why = the bureau has not received the receipt: {$why}; hand it in at the tax office (FAQ 4.20)
out-receipt-not-received = the bureau has not received the receipt; hand it in at the tax office (FAQ 4.20)

## One change of an update token in words (host::l10n::update_change; D10, H17).
update-limits = {$kind}: single invoice limit {$single}, offline hours {$hours}, offline amount {$amount}
update-authorized = {$kind}: authorized
update-withdrawn = {$kind}: authorization withdrawn
update-oil = refined oil: {$role}
update-oil-until = refined oil: {$role} until {$until}
update-used-car = used car: {$role}
update-company-name = company name: {$name}
update-taxpayer-id = taxpayer id: {$id}

## The link to the disk (TransportError).
transport-timeout = no answer from the disk within {$ms} ms
transport-disconnected = the disk disconnected: {$reason}
transport-bad-frame = bad frame from the disk: {$error}
transport-oversize = frame of {$bytes} bytes is longer than the largest frame ({$max} bytes)
transport-io = {$context}: {$error}
transport-usb = USB: {$error}
transport-no-disk-resolve-why = no tax disk at {$a}: the address does not resolve ({$b})
transport-no-disk-resolve = no tax disk at {$a}: the address does not resolve
transport-no-disk-tcp = no tax disk at tcp {$a} ({$b}); is `taxdisk-sim serve` running?
transport-no-disk-usb = no tax disk with {$a} on USB; attached: {$b}
transport-no-usb = no tax disk found on USB (VID {$a} PID {$b}): USB is not available on this machine (libusb: {$c})
transport-no-disk-plugged = no tax disk found on USB (VID {$a} PID {$b}); is it plugged in?

## host::tokens::TokenError (the conformance suite's token source)
token-key = bureau key: {$error}
token-sign = signing a {$what}: {$error}
token-secret = bureau secret: {$error}
token-unsupported = this token source cannot make a {$what}

## taxdisk_protocol::sign::SignError
sign-bad-secret = invalid SM2 secret key
sign-bad-public-key = invalid SM2 public key
sign-bad-signature = SM2 signature does not verify
sign-message-too-long = message too long to sign

## the simulator's control channel, as its client meets it (taxdisk_protocol::control::client)
control-io = control channel {$context}: {$error}
control-no-address = control address {$address} resolves to nothing
control-timeout = no control answer within {$ms} ms
control-closed = the simulator closed the control connection
control-frame = control frame: {$error}
