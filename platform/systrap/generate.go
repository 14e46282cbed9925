package systrap

//go:generate go run gen_stub.go -o stub_code_amd64.go
