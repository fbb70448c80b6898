export { MyTransfers } from "./MyTransfers";
export { Updates } from "./Updates";
