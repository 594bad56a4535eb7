package main

func runMockSignal(args []string) int { return 2 }
