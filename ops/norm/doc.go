package norm
