package runtime

import _ "stride/ops/all" // a Session can run every registered op family
