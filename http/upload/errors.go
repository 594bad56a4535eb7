package upload

import (
	"errors"
	"fmt"
)

// ErrTooLarge means the upload has more bytes than Options.MaxBytes allows.
var ErrTooLarge = errors.New("upload too large")

// InputError means the upload as a whole cannot be used: it is empty, binary,
// lacks an id column or has no acceptable row. Msg is meant for a person.
type InputError struct {
	Msg string
}

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) *InputError {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}
