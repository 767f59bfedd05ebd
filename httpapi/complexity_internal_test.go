package httpapi

import (
	"math"
	"testing"
)

func TestPagePriceNeverWraps(t *testing.T) {
	huge, negative, ten := math.MaxInt, -5, 10
	for _, tc := range []struct {
		child       int
		first, last *int
		want        int
	}{
		{3, nil, nil, 1 + 20*3},
		{3, &ten, nil, 31},
		{3, nil, &ten, 31},
		{3, &huge, nil, 1 + 100*3},
		{3, &negative, nil, 4},
		{math.MaxInt / 50, &huge, nil, math.MaxInt},
		{math.MaxInt, &ten, nil, math.MaxInt},
	} {
		if got := page(tc.child, tc.first, tc.last); got != tc.want {
			t.Errorf("page(%d, %v, %v) = %d, want %d", tc.child, tc.first, tc.last, got, tc.want)
		}
	}
}
