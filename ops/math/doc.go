package mathops
