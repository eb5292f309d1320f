package imageops
