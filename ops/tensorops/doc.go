package tensorops
