package ftn

import "log/slog"

// Secret is a password from the settings. It prints and logs as
// "[secret]"; Reveal returns it.
type Secret string

// String implements fmt.Stringer without the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[secret]"
}

// GoString implements fmt.GoStringer without the secret.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer without the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reveal returns the secret itself, for the mailer's config and packet
// headers only.
func (s Secret) Reveal() string { return string(s) }
