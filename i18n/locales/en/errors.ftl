## The disk's wire errors: one message per code of protocol::WireError (key wire-<Name>).
## English is the firmware's own text (WireError::message); a test keeps them equal.

# 0x0001 wire
wire-Malformed = request payload could not be decoded
# 0x0002 wire
wire-UnknownCommand = unknown command
# 0x0003 wire
wire-UnsupportedVersion = unsupported protocol version
# 0x0004 D14
wire-Busy = the disk is in use by another session
# 0x0005 D13
wire-StorageFault = flash storage fault
# 0x0006 D13
wire-StorageFull = journal full: upload and clear the card to free space
# 0x0007 wire
wire-BadArgument = argument out of range
# 0x0100 D1
wire-NotProvisioned = the disk is not provisioned
# 0x0101 D1
wire-AlreadyProvisioned = the disk is already provisioned
# 0x0102 D2
wire-NotLoggedIn = not logged in
# 0x0103 D2
wire-WrongPin = wrong PIN
# 0x0104 D2
wire-PinBlocked = PIN blocked: an unblock token from the bureau is needed
# 0x0200 D10
wire-BadSignature = token signature invalid
# 0x0201 D10
wire-WrongDevice = token is for another disk
# 0x0202 D10
wire-Replayed = token already used
# 0x0203 D12
wire-UnknownEvents = receipt names events the disk does not hold
# 0x0300 D3
wire-ClockError = disk clock is earlier than the newest invoice
# 0x0400 D4
wire-NoBlankNumber = no blank invoice number left
# 0x0401 D4
wire-RollNotFound = roll not found
# 0x0402 D4
wire-RollOverlap = roll overlaps a loaded roll
# 0x0403 D4
wire-ReturnBeforeReport = the tax bureau has not received the last month's summary (FAQ 4.21(4)): report it before returning rolls
# 0x0404 D4
wire-TooManyRolls = too many rolls loaded
# 0x0405 F2
wire-BadRollCode = roll code does not fit its kind
# 0x0500 D5
wire-KindNotAuthorized = invoice kind not authorized
# 0x0501 D5
wire-OverSingleLimit = amount over the single-invoice limit
# 0x0502 D5
wire-ZeroTotal = amount plus tax is zero
# 0x0503 D8
wire-Locked = the disk is locked: report and clear the card
# 0x0504 D5
wire-PeriodNotReported = a new month began: report the last period first
# 0x0505 D9
wire-OfflineHoursExceeded = offline time limit reached: upload invoices
# 0x0506 D9
wire-OfflineAmountExceeded = offline amount limit reached: upload invoices
# 0x0507 D9
wire-UploadDeadlinePassed = upload deadline passed with invoices not uploaded
# 0x0508 D11
wire-OilStockShort = oil stock short
# 0x0509 D6
wire-OriginalNotFound = original invoice not found
# 0x050A D6
wire-OriginalVoided = original invoice is voided
# 0x050B D6
wire-ReversalNotAllowed = this red invoice cannot reverse that original
# 0x050C D6
wire-SignMismatch = amount sign does not match blue/red
# 0x050D D5
wire-RequestIdConflict = request id already used for another invoice
# 0x050E D11
wire-OilNotAuthorized = not authorized for refined-oil invoices
# 0x0600 D7
wire-InvoiceNotFound = invoice not found
# 0x0601 D7
wire-NotCurrentPeriod = only invoices of the current period can be voided
# 0x0602 D7
wire-AlreadyReported = the period is already reported
# 0x0603 D7
wire-AlreadyVoided = invoice already voided
# 0x0604 D7
wire-VoidNotAllowed = electronic invoices cannot be voided: issue a red one
# 0x0605 D7
wire-OilSpecialNoVoid = refined-oil special invoices cannot be voided
# 0x0700 D8
wire-PeriodNotFinished = the period has not ended
# 0x0701 D8
wire-PeriodNotCopyable = that period cannot be copied now
# 0x0702 D8
wire-NotCopied = copy tax before clearing the card

## How a wire error is shown: the message, its code and rule (the Display of WireError).
wire-line = {$message} ({$code}, {$rule})

## The disk's commands (protocol::CommandId), as a refusal names them.
command-Ping = Ping
command-GetInfo = GetInfo
command-Login = Login
command-ChangePin = ChangePin
command-Logout = Logout
command-Provision = Provision
command-GetStatus = GetStatus
command-GetPublicKey = GetPublicKey
command-ApplyUpdate = ApplyUpdate
command-SetClock = SetClock
command-ListRolls = ListRolls
command-LoadRolls = LoadRolls
command-ReturnRoll = ReturnRoll
command-VoidBlank = VoidBlank
command-Issue = Issue
command-Void = Void
command-ReadInvoice = ReadInvoice
command-LastIssued = LastIssued
command-ListPending = ListPending
command-AckUpload = AckUpload
command-CopyTax = CopyTax
command-ClearCard = ClearCard
command-OilStock = OilStock
command-LoadOilStock = LoadOilStock
command-ReturnOilStock = ReturnOilStock
command-Unblock = Unblock
command-ReadEvent = ReadEvent
command-ApplyReportReceipt = ApplyReportReceipt

## The format checks of identifiers (F2-F7), as protocol's FormatError displays them.
format-length = {$field}: {$found} characters, expected {$expected}
format-or = or
format-character = {$field}: character {$position} is not allowed
format-checksum = {$field}: check character does not match
format-month = {$field}: month must be 01-12
format-kind-mismatch = {$field}: does not match the invoice kind
format-range = {$field}: out of range
format-rate = tax rate not in force (F7)
format-to = to
