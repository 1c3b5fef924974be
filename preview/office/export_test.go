package office

// PrivateFolder makes a folder as a conversion in a folder sandbox does.
var PrivateFolder = privateFolder

// CheckEncrypted is the password check Convert makes first.
var CheckEncrypted = checkEncrypted
