package main

import "testing"

// TestConfigReadsProofMaxAge: CPOR_POE_MAX_AGE_MONTHS defaults to 12,
// takes a positive number of months and refuses anything else.
func TestConfigReadsProofMaxAge(t *testing.T) {
	for value, want := range map[string]int64{"": 12, "6": 6, "24": 24} {
		cfg, err := loadConfig(envOf(map[string]string{"CPOR_POE_MAX_AGE_MONTHS": value}))
		if err != nil || cfg.proofMaxAgeMonths != want {
			t.Errorf("%q: %d, %v; want %d", value, cfg.proofMaxAgeMonths, err, want)
		}
	}
	for _, bad := range []string{"0", "-1", "12m", "a year"} {
		if _, err := loadConfig(envOf(map[string]string{"CPOR_POE_MAX_AGE_MONTHS": bad})); err == nil {
			t.Errorf("loadConfig accepted CPOR_POE_MAX_AGE_MONTHS=%q", bad)
		}
	}
}
