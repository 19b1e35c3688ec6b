package sipcall

import "testing"

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"an empty config takes the default address", Config{}, false},
		{"a port alone binds every interface", Config{Addr: ":5060"}, false},
		{"port 0 picks a free port", Config{Addr: "127.0.0.1:0"}, false},
		{"an IPv6 literal is accepted", Config{Addr: "[::1]:5070"}, false},
		{"the highest port is accepted", Config{Addr: ":65535"}, false},
		{"a port above 65535 is refused", Config{Addr: ":65536"}, true},
		{"a negative port is refused", Config{Addr: ":-1"}, true},
		{"a service name is refused", Config{Addr: ":sip"}, true},
		{"a missing port is refused", Config{Addr: "127.0.0.1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
