package relay

import "cpor/apperr"

// MaxListValues bounds every list argument: the IDs of nodes(ids:) and each
// list of a filter. A list is checked before any SQL runs, so a longer one
// is INVALID_INPUT on its argument, not a statement the database refuses.
const MaxListValues = 100

// CheckListLength fails with INVALID_INPUT on field when a list argument
// holds more than MaxListValues values.
func CheckListLength(field string, n int) error {
	if n > MaxListValues {
		return apperr.Invalidf(field, "Give at most %d values in %s; this gives %d. Split the request.", MaxListValues, field, n)
	}
	return nil
}
