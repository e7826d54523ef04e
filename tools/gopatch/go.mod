module leanstack.local/gopatch

go 1.24
