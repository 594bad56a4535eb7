package main

func runUpload(args []string) int   { return 2 }
func runStatus(args []string) int   { return 2 }
func runDownload(args []string) int { return 2 }
func runCancel(args []string) int   { return 2 }
func runLimits(args []string) int   { return 2 }
func runWorks(args []string) int    { return 2 }
func runCluster(args []string) int  { return 2 }
