package model

import (
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"cpor/apperr"
	"cpor/models"
)

// MarshalDate writes the Date scalar: "YYYY-MM-DD".
func MarshalDate(d models.Date) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(d.String()))
	})
}

// UnmarshalDate reads the Date scalar; anything but a real "YYYY-MM-DD"
// day is INVALID_INPUT on executedOn, the one input of this type.
func UnmarshalDate(v any) (models.Date, error) {
	s, ok := v.(string)
	if ok {
		if d, err := models.ParseDate(s); err == nil {
			return d, nil
		}
	}
	return models.Date{}, apperr.Invalidf("executedOn", "Give the day as YYYY-MM-DD, such as 2026-03-31.")
}
