package main

func runServe(args []string) int   { return 2 }
func runMigrate(args []string) int { return 2 }
